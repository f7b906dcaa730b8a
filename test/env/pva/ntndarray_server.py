"""A p4p (pvxs) server of area-detector images (NTNDArray, p4p's own layout), driven by JSON commands on stdin.

Usage: python ntndarray_server.py [NAME ...] PREFIX
Serves PREFIX + NAME for each name (default: "image"). The caller sets the EPICS_PVAS_* environment (loopback
only). Prints "READY" once serving, then one line per command. Commands (one JSON object per line):
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
from p4p.nt import NTNDArray
from p4p.server import Server
from p4p.server.thread import SharedPV

ATTRIBUTES = {"ColorMode": 0, "AcquireTime": 0.25, "Model": "p4p détecteur ✓"}
NT = NTNDArray()


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
    pvs = {name: SharedPV(initial=initial) for name in names}
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
