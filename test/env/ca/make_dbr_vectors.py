"""Writes DBR test vectors built with caproto's ctypes structures (an independent description of db_access.h).

Usage: python make_dbr_vectors.py > test/unit/ca/dbr-vectors.json
Each vector: DBR type, element count, the field values and the payload as hex (unpadded).
"""

import json
import struct

from caproto import DBR_TYPES, ChannelType

NATIVE = ["STRING", "INT", "FLOAT", "ENUM", "CHAR", "LONG", "DOUBLE"]
VALUE_FORMATS = {"INT": ">h", "FLOAT": ">f", "ENUM": ">H", "CHAR": ">B", "LONG": ">i", "DOUBLE": ">d"}
VALUES = {
    "STRING": ["first", "a string of exactly forty characters xx.", "x"],
    "INT": [-2, 32767, 7],
    "FLOAT": [1.5, -0.25, 3.0],
    "ENUM": [3, 1, 0],
    "CHAR": [0, 255, 65],
    "LONG": [-100000, 2147483647, 1],
    "DOUBLE": [3.25, -1e300, 0.1],
}
LIMITS = {
    "upper_disp_limit": 100,
    "lower_disp_limit": -100 & 0xFF,
    "upper_alarm_limit": 90,
    "upper_warning_limit": 70,
    "lower_warning_limit": 10,
    "lower_alarm_limit": 5,
    "upper_ctrl_limit": 95,
    "lower_ctrl_limit": 1,
}


def limits_for(native):
    limits = dict(LIMITS)
    if native != "CHAR":
        limits["lower_disp_limit"] = -100
    return limits


def encode_values(native, values):
    if native == "STRING":
        return b"".join(v.encode().ljust(40, b"\0")[:40] for v in values)
    return b"".join(struct.pack(VALUE_FORMATS[native], v) for v in values)


def vector(kind, native, count):
    type_id = ChannelType[f"{kind}_{native}" if kind != "PLAIN" else native]
    struct_type = DBR_TYPES[type_id]
    fields = {}
    header = b""
    if kind != "PLAIN":
        dbr = struct_type()
        dbr.status = 4
        dbr.severity = 1
        fields.update(status=4, severity=1)
        if kind == "TIME":
            dbr.secondsSinceEpoch = 0x45661BEC
            dbr.nanoSeconds = 123456789
            fields.update(secondsPastEpoch=0x45661BEC, nanoseconds=123456789)
        if kind in ("GR", "CTRL") and native == "ENUM":
            dbr.enum_strings = [b"Idle", b"Ramp", b"Hold", b"Fault"]
            fields["enumStrings"] = ["Idle", "Ramp", "Hold", "Fault"]
        elif kind in ("GR", "CTRL") and native != "STRING":
            dbr.units = b"mA"
            fields["units"] = "mA"
            if native in ("FLOAT", "DOUBLE"):
                dbr.precision = 3
                fields["precision"] = 3
            names = list(limits_for(native))[: 8 if kind == "CTRL" else 6]
            fields["limits"] = {}
            for name in names:
                setattr(dbr, name, limits_for(native)[name])
                value = getattr(dbr, name)
                fields["limits"][name] = value[0] if isinstance(value, bytes) else value
        header = bytes(dbr)
    values = VALUES[native][:count]
    return {
        "name": f"DBR_{kind}_{native}" if kind != "PLAIN" else f"DBR_{native}",
        "dbrType": int(type_id),
        "count": count,
        "fields": fields,
        "values": values,
        "hex": (header + encode_values(native, values)).hex(),
    }


vectors = []
for kind in ("PLAIN", "STS", "TIME", "GR", "CTRL"):
    for native in NATIVE:
        if kind in ("GR", "CTRL") and native == "STRING":
            continue  # laid out like STS_STRING; caproto does not define them
        for count in (1, 3):
            vectors.append(vector(kind, native, count))
print(json.dumps(vectors, indent=1))
