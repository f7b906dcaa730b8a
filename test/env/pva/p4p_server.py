"""A p4p (pvxs) server with the structures QSRV does not serve, driven by JSON commands on stdin.

Usage: python p4p_server.py PREFIX
The caller sets the EPICS_PVAS_* environment (loopback only, test ports). Prints "READY" once serving, then one
"OK <command>" line per command executed. Commands (one JSON object per line):
  {"op": "post_table"}             a new NTTable row set
  {"op": "post_value", "value": x} change only subset's value (a field-subset update)
  {"op": "post_units", "units": u} change only subset's display.units
  {"op": "post_compound"}          new union/variant/array contents for the compound PV
  {"op": "close", "pv": name}      SharedPV.close(): the server destroys the channels
  {"op": "open", "pv": name}       re-open a closed PV with its initial value
"""

import json
import sys
import time

from p4p import Type, Value
from p4p.nt import NTScalar, NTTable
from p4p.server import Server
from p4p.server.thread import SharedPV

ALARM = ("S", "alarm_t", [("severity", "i"), ("status", "i"), ("message", "s")])
TIME = ("S", "time_t", [("secondsPastEpoch", "l"), ("nanoseconds", "i"), ("userTag", "i")])
STAMP = {"secondsPastEpoch": 1700000000, "nanoseconds": 5, "userTag": 0}

TABLE = NTTable(columns=[("timestamp", "L"), ("value", "d"), ("name", "s")])
NESTED = Type(
    [
        ("value", "d"),
        ("alarm", ALARM),
        ("timeStamp", TIME),
        ("config", ("S", "config_t", [("inner", ("S", None, [("deep", "l"), ("text", "s")])), ("gain", "f")])),
    ],
    id="epics:nt/NTScalar:1.0",
)
COMPOUND = Type(
    [
        ("value", ("U", None, [("d", "d"), ("s", "s"), ("arr", "ai")])),
        ("alarm", ALARM),
        ("timeStamp", TIME),
        ("variant", "v"),
        ("points", ("aS", "point_t", [("x", "i"), ("label", "s")])),
        ("choices", ("aU", None, [("a", "i"), ("b", "s")])),
        ("variants", "av"),
    ]
)
VARIANT = Type([("value", "v"), ("alarm", ALARM), ("timeStamp", TIME)])
STRUCT_VALUE = Type([("value", ("S", "custom_t", [("a", "i"), ("b", "s")])), ("alarm", ALARM), ("timeStamp", TIME)])


def table_rows(base):
    return [{"timestamp": base + i, "value": base * 0.5 + i, "name": "row%d" % i} for i in range(3)]


def compound_value(n):
    return Value(
        COMPOUND,
        {
            "value": ("arr", [n, n + 1, n + 2]) if n else ("s", "hello"),
            "alarm": {"severity": 1, "status": 3, "message": "compound"},
            "timeStamp": STAMP,
            "variant": 4.5 + n,
            "points": [{"x": 1 + n, "label": "a"}, {"x": -2, "label": "b"}],
            "choices": [("a", 3), ("b", "x")],
            "variants": [1, "two"],
        },
    )


def main():
    prefix = sys.argv[1]
    subset_type = NTScalar("d", display=True)
    initial = {
        "table": lambda: TABLE.wrap(table_rows(10)),
        "subset": lambda: subset_type.wrap(1.0, timestamp=1700000000.0),
        "nested": lambda: Value(
            NESTED,
            {
                "value": 2.5,
                "alarm": {"severity": 0, "status": 0, "message": ""},
                "timeStamp": STAMP,
                "config": {"inner": {"deep": -(2**40), "text": "deep text"}, "gain": 0.5},
            },
        ),
        "compound": lambda: compound_value(0),
        "variant": lambda: Value(VARIANT, {"value": "in a variant", "timeStamp": STAMP}),
        "structvalue": lambda: Value(STRUCT_VALUE, {"value": {"a": 1, "b": "x"}, "timeStamp": STAMP}),
        "uint64": lambda: NTScalar("L").wrap(2**64 - 1, timestamp=1700000000.0),
    }
    pvs = {name: SharedPV(initial=make()) for name, make in initial.items()}
    # The display sub-structure must be present for a units-only post.
    pvs["subset"].post(subset_type.wrap(1.0, timestamp=1700000000.0))
    server = Server(providers=[{prefix + name: pv for name, pv in pvs.items()}])
    print("READY", flush=True)
    try:
        for line in sys.stdin:
            command = json.loads(line)
            op = command["op"]
            if op == "post_table":
                pvs["table"].post(TABLE.wrap(table_rows(20)))
            elif op == "post_value":
                # A Value built from a dict marks only the fields it sets as changed.
                pvs["subset"].post(Value(pvs["subset"].current().type(), {"value": command["value"]}))
            elif op == "post_units":
                pvs["subset"].post(Value(pvs["subset"].current().type(), {"display": {"units": command["units"]}}))
            elif op == "post_compound":
                pvs["compound"].post(compound_value(1))
            elif op == "close":
                pvs[command["pv"]].close(destroy=True)
            elif op == "open":
                pvs[command["pv"]].open(initial[command["pv"]]())
            print("OK " + op, flush=True)
    finally:
        server.stop()
        time.sleep(0.1)


if __name__ == "__main__":
    main()
