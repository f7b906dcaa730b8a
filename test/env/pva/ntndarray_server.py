"""A p4p (pvxs) server of area-detector images (NTNDArray, p4p's own layout), driven by JSON commands on stdin.

Usage: python ntndarray_server.py [NAME ...] PREFIX
Serves PREFIX + NAME for each name (default: "image"). The name "ndpluginpva" serves one fixed frame in the
structure NDPluginPva builds (NDPLUGINPVA below), the others p4p's own NTNDArray layout. The caller sets the
EPICS_PVAS_* environment (loopback only). Prints "READY" once serving, then one line per command. Commands (one JSON object per line):
  {"op": "post", "pv": name, "dtype": numpy type, "shape": [...], "unique_id": n, "timestamp_ns": t}
      posts one frame whose elements count up from unique_id (booleans alternate), with the attributes below,
      and prints "SENT " + what was sent as JSON: shape, dtype, data (for frames of up to 4096 elements),
      unique_id, timestamp_ns, attributes
  {"op": "stream", "pv": name, "dtype": type, "shape": [...], "rate_hz": r, "count": n}
      posts n frames (0: until the next command) at r per second (0: as fast as it can), a pattern moving one
      pixel a frame, unique ids counting from 1, stamped with the wall clock; prints "STREAMING" at once and
      "STREAMED <frames> <seconds>" when done
  {"op": "stop"}  ends a stream; prints "STOPPED"
"""

import json
import sys
import threading
import time

import numpy as np
from p4p import Type, Value
from p4p.nt import NTNDArray
from p4p.server import Server
from p4p.server.thread import SharedPV

ATTRIBUTES = {"ColorMode": 0, "AcquireTime": 0.25, "Model": "p4p détecteur ✓"}
NT = NTNDArray()

ALARM = ("S", "alarm_t", [("severity", "i"), ("status", "i"), ("message", "s")])
TIME = ("S", "time_t", [("secondsPastEpoch", "l"), ("nanoseconds", "i"), ("userTag", "i")])
DISPLAY = (
    "S",
    "display_t",
    [("limitLow", "d"), ("limitHigh", "d"), ("description", "s"), ("format", "s"), ("units", "s")],
)
# The structure areaDetector's NDPluginPva serves: normativeTypesCPP's NTNDArrayBuilder with addDescriptor,
# addTimeStamp, addAlarm and addDisplay, its fields in the builder's order (not p4p's), NDAttributes as
# NTAttributes with their sourceType and source.
NDPLUGINPVA = Type(
    [
        ("value", ("U", None, [(name + "Value", "a" + code) for name, code in [
            ("boolean", "?"), ("byte", "b"), ("short", "h"), ("int", "i"), ("long", "l"),
            ("ubyte", "B"), ("ushort", "H"), ("uint", "I"), ("ulong", "L"), ("float", "f"), ("double", "d"),
        ]])),
        ("codec", ("S", "codec_t", [("name", "s"), ("parameters", "v")])),
        ("compressedSize", "l"),
        ("uncompressedSize", "l"),
        ("dimension", ("aS", "dimension_t", [
            ("size", "i"), ("offset", "i"), ("fullSize", "i"), ("binning", "i"), ("reverse", "?"),
        ])),
        ("uniqueId", "i"),
        ("dataTimeStamp", TIME),
        ("attribute", ("aS", "epics:nt/NTAttribute:1.0", [
            ("name", "s"), ("value", "v"), ("tags", "as"), ("descriptor", "s"),
            ("alarm", ALARM), ("timeStamp", TIME), ("sourceType", "i"), ("source", "s"),
        ])),
        ("descriptor", "s"),
        ("alarm", ALARM),
        ("timeStamp", TIME),
        ("display", DISPLAY),
    ],
    id="epics:nt/NTNDArray:1.0",
)


def ndpluginpva_frame():
    """A 3 x 2 uint16 frame as NDPluginPva sends one from ADSimDetector, with its usual attributes."""
    pixels = np.arange(6, dtype=np.uint16) * 1000 + 7
    attribute = lambda name, value, descriptor, source_type, source: {  # noqa: E731
        "name": name, "value": value, "descriptor": descriptor, "sourceType": source_type, "source": source,
    }
    return Value(NDPLUGINPVA, {
        "value": ("ushortValue", pixels),
        "codec": {"name": ""},
        "compressedSize": pixels.nbytes,
        "uncompressedSize": pixels.nbytes,
        "dimension": [
            {"size": 3, "offset": 0, "fullSize": 3, "binning": 1, "reverse": False},
            {"size": 2, "offset": 0, "fullSize": 2, "binning": 1, "reverse": False},
        ],
        "uniqueId": 4242,
        # ADSimDetector's NDArray.timeStamp: seconds since the EPICS epoch (1990).
        "dataTimeStamp": {"secondsPastEpoch": 1069000000, "nanoseconds": 250000000},
        "attribute": [
            attribute("ColorMode", ("i", 0), "Color mode", 2, "13SIM1:cam1:ColorMode_RBV"),
            attribute("AcquireTime", ("d", 0.05), "Exposure time", 2, "13SIM1:cam1:AcquireTime_RBV"),
            attribute("Manufacturer", "Simulated detector", "", 1, "MANUFACTURER"),
        ],
        "descriptor": "",
        "timeStamp": {"secondsPastEpoch": 1700000000, "nanoseconds": 123456789},
    })


def frame_value(data, unique_id, timestamp_ns):
    value = NT.wrap(data, attrib=dict(ATTRIBUTES))
    value["uniqueId"] = unique_id
    value["timeStamp.secondsPastEpoch"] = timestamp_ns // 1_000_000_000
    value["timeStamp.nanoseconds"] = timestamp_ns % 1_000_000_000
    return value


def counting(dtype, shape, start):
    count = int(np.prod(shape))
    if dtype == "bool":
        return (np.arange(count) % 2 == 1).reshape(shape)
    return (np.arange(count, dtype=np.uint64) + start).astype(dtype).reshape(shape)


def plain(value):
    """A JSON-ready form of numbers and strings (integers as decimal strings, floats as repr)."""
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return value


def described(data, unique_id, timestamp_ns):
    return {
        "shape": list(data.shape),
        "dtype": "uint8" if data.dtype == np.bool_ else data.dtype.name,
        "data": [plain(item) for item in data.flatten().tolist()] if data.size <= 4096 else None,
        "unique_id": str(unique_id),
        "timestamp_ns": str(timestamp_ns),
        "attributes": {name: plain(value) for name, value in ATTRIBUTES.items()},
    }


class Streamer(threading.Thread):
    def __init__(self, pv, dtype, shape, rate_hz, count):
        super().__init__(daemon=True)
        self.pv, self.rate_hz, self.count = pv, rate_hz, count
        base = counting(dtype if dtype != "bool" else "uint8", shape, 0)
        # A diagonal stripe that moves one pixel a frame, over a ramp.
        self.frames = [np.roll(base, shift, axis=-1) for shift in range(min(shape[-1], 16))]
        self.stopped = threading.Event()

    def run(self):
        started = time.monotonic()
        sent = 0
        while not self.stopped.is_set() and (self.count == 0 or sent < self.count):
            data = self.frames[sent % len(self.frames)]
            self.pv.post(frame_value(data, sent + 1, time.time_ns()))
            sent += 1
            if self.rate_hz > 0:
                delay = started + sent / self.rate_hz - time.monotonic()
                if delay > 0:
                    self.stopped.wait(delay)
        print(f"STREAMED {sent} {time.monotonic() - started:.3f}", flush=True)


def main():
    prefix = sys.argv[-1]
    names = sys.argv[1:-1] or ["image"]
    initial = frame_value(np.zeros((2, 2), dtype=np.uint8), 0, time.time_ns())
    pvs = {
        name: SharedPV(initial=ndpluginpva_frame() if name == "ndpluginpva" else initial) for name in names
    }
    server = Server(providers=[{prefix + name: pv for name, pv in pvs.items()}])
    streamer = None
    print("READY", flush=True)
    try:
        for line in sys.stdin:
            command = json.loads(line)
            if streamer is not None and command["op"] in ("stream", "stop"):
                streamer.stopped.set()
                streamer.join()
                streamer = None
            if command["op"] == "post":
                data = counting(command["dtype"], command["shape"], command["unique_id"])
                timestamp_ns = int(command["timestamp_ns"])
                pvs[command["pv"]].post(frame_value(data, command["unique_id"], timestamp_ns))
                print("SENT " + json.dumps(described(data, command["unique_id"], timestamp_ns)), flush=True)
            elif command["op"] == "stream":
                streamer = Streamer(
                    pvs[command["pv"]], command["dtype"], command["shape"], command["rate_hz"], command["count"]
                )
                streamer.start()
                print("STREAMING", flush=True)
            elif command["op"] == "stop":
                print("STOPPED", flush=True)
    finally:
        if streamer is not None:
            streamer.stopped.set()
            streamer.join()
        server.stop()


if __name__ == "__main__":
    main()
