"""Runs the ESS reference serialisers (ess-streaming-data-types) on a batch of cases, for the cross-check tests.

stdin: {"mode": "decode" | "encode", "cases": [...]}; stdout: one JSON result per case, in order.
- decode: each case {"bytes": base64}; the result is the reference deserialiser's output in a canonical JSON form
  (integers as decimal strings, floats as "f:" + the hex of their float64 bits, numpy arrays as {dtype, data}
  with nested lists for more dimensions, enums as their number, datetimes as microseconds, objects as their
  attributes), plus the raw union tag where the schema has one.
- encode: each case {"call": {"fn": name, "args": [...]}} with tagged arguments (see `arg`); the result is the
  buffer the reference serialiser returns, base64.
A case that raises gives {"error": "..."} instead.
"""

import base64
import enum
import json
import struct
import sys
from datetime import datetime, timedelta, timezone

import numpy as np
from streaming_data_types import (
    alarm_al00,
    area_detector_ad00,
    array_1d_se00,
    dataarray_da00,
    epics_connection_ep01,
    epics_connection_info_ep00,
    forwarder_config_update_fc00,
    forwarder_config_update_rf5k,
    logdata_f142,
    logdata_f144,
    sample_environment_senv,
    status_x5f2,
    timestamps_tdct,
)
from streaming_data_types.fbschemas.array_1d_se00.se00_SampleEnvironmentData import se00_SampleEnvironmentData
from streaming_data_types.fbschemas.logdata_f142.LogData import LogData
from streaming_data_types.fbschemas.logdata_f144.f144_LogData import f144_LogData
from streaming_data_types.fbschemas.sample_environment_senv.SampleEnvironmentData import SampleEnvironmentData
from streaming_data_types.utils import get_schema

DESERIALISERS = {
    "f144": logdata_f144.deserialise_f144,
    "f142": logdata_f142.deserialise_f142,
    "al00": alarm_al00.deserialise_al00,
    "ep01": epics_connection_ep01.deserialise_ep01,
    "ep00": epics_connection_info_ep00.deserialise_ep00,
    "tdct": timestamps_tdct.deserialise_tdct,
    "se00": array_1d_se00.deserialise_se00,
    "senv": sample_environment_senv.deserialise_senv,
    "x5f2": status_x5f2.deserialise_x5f2,
    "fc00": forwarder_config_update_fc00.deserialise_fc00,
    "rf5k": forwarder_config_update_rf5k.deserialise_rf5k,
    "ad00": area_detector_ad00.deserialise_ad00,
    "da00": dataarray_da00.deserialise_da00,
}

UNION_TAG = {
    "f144": lambda buf: f144_LogData.GetRootAsf144_LogData(buf, 0).ValueType(),
    "f142": lambda buf: LogData.GetRootAsLogData(buf, 0).ValueType(),
    "se00": lambda buf: se00_SampleEnvironmentData.GetRootAsse00_SampleEnvironmentData(buf, 0).ValuesType(),
    "senv": lambda buf: SampleEnvironmentData.GetRootAsSampleEnvironmentData(buf, 0).ValuesType(),
}

SERIALISERS = {
    "serialise_f144": logdata_f144.serialise_f144,
    "serialise_f142": logdata_f142.serialise_f142,
    "serialise_al00": alarm_al00.serialise_al00,
    "serialise_ep01": epics_connection_ep01.serialise_ep01,
    "serialise_ep00": epics_connection_info_ep00.serialise_ep00,
    "serialise_tdct": timestamps_tdct.serialise_tdct,
    "serialise_se00": array_1d_se00.serialise_se00,
    "serialise_senv": sample_environment_senv.serialise_senv,
    "serialise_x5f2": status_x5f2.serialise_x5f2,
    "serialise_fc00": forwarder_config_update_fc00.serialise_fc00,
    "serialise_rf5k": forwarder_config_update_rf5k.serialise_rf5k,
    "serialise_ad00": area_detector_ad00.serialise_ad00,
    "serialise_da00": dataarray_da00.serialise_da00,
}

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def canonical(value):
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return {field: canonical(getattr(value, field)) for field in value._fields}
    if isinstance(value, enum.Enum):
        return canonical(value.value)
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return canonical(value.item())
        dtype = "str" if value.dtype.kind in "US" else value.dtype.name
        return {"dtype": dtype, "data": [canonical(item) for item in value.tolist()]}
    if isinstance(value, np.generic):
        return canonical(value.item())
    if isinstance(value, bool):
        raise TypeError("unexpected bool")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "f:" + struct.pack("<d", value).hex()
    if isinstance(value, (str, type(None))):
        return value
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    if isinstance(value, datetime):
        return {"datetime_us": str((value - EPOCH) // timedelta(microseconds=1))}
    if isinstance(value, (list, tuple)):
        return [canonical(item) for item in value]
    if hasattr(value, "__dict__"):  # ad00's Attribute, da00's Variable
        return {key: canonical(item) for key, item in vars(value).items()}
    raise TypeError(f"cannot canonicalise {type(value)}")


def number(text):
    """A tagged number: decimal integer, or "f:" + hex of float64 bits."""
    if text.startswith("f:"):
        return struct.unpack("<d", bytes.fromhex(text[2:]))[0]
    return int(text)


def arg(tagged):
    """Turns a tagged JSON argument into the Python value the reference serialiser expects."""
    if isinstance(tagged, list):
        return [arg(item) for item in tagged]
    if not isinstance(tagged, dict):
        return tagged
    kind, value = next(iter(tagged.items()))
    if kind == "num":
        return number(value)
    if kind == "none":
        return None
    if kind == "np":
        return np.array([number(item) for item in value["data"]], dtype=value["dtype"])
    if kind == "np_shaped":
        flat = np.array([number(item) for item in value["data"]], dtype=value["dtype"])
        return flat.reshape(value["shape"])
    if kind == "ad00_attribute":
        return area_detector_ad00.Attribute(*arg(value))
    if kind == "da00_variable":
        return dataarray_da00.Variable(**{key: arg(item) for key, item in value.items()})
    if kind == "np0":
        return np.dtype(value["dtype"]).type(number(value["value"]))
    if kind == "strs":
        return np.array(value)
    if kind == "al00_severity":
        return alarm_al00.Severity(value)
    if kind == "ep01_status":
        return epics_connection_ep01.ConnectionInfo(value)
    if kind == "fc00_stream":
        return forwarder_config_update_fc00.StreamInfo(*arg(value))
    if kind == "rf5k_stream":
        return forwarder_config_update_rf5k.StreamInfo(*arg(value))
    if kind == "datetime_ns":
        # As the reference forwarder makes senv packet times.
        return datetime.fromtimestamp(int(value) / 1e9)
    raise ValueError(f"unknown argument tag {kind}")


def decode(case):
    buffer = base64.b64decode(case["bytes"])
    schema = get_schema(buffer)
    result = {"decoded": canonical(DESERIALISERS[schema](buffer))}
    if schema in UNION_TAG:
        result["tag"] = UNION_TAG[schema](buffer)
    return result


def encode(case):
    call = case["call"]
    buffer = SERIALISERS[call["fn"]](*arg(call["args"]))
    return {"bytes": base64.b64encode(buffer).decode()}


def main():
    request = json.load(sys.stdin)
    run = decode if request["mode"] == "decode" else encode
    results = []
    for case in request["cases"]:
        try:
            results.append(run(case))
        except Exception as error:  # reported per case, so one bad case does not hide the others
            results.append({"error": f"{type(error).__name__}: {error}"})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
