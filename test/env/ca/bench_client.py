"""Channel Access client benchmark for the Python clients (caproto's threading client, pyepics on libca).

Usage: python bench_client.py LIBRARY MODE SECONDS < names.json
  LIBRARY  caproto | pyepics
  MODE     connect: time until every PV is connected and has delivered its first value
           rate:    subscribe to every PV, skip a 1 s warm-up, then count updates for SECONDS
Prints one JSON object. The environment (EPICS_CA_*) selects the server.
"""

import json
import resource
import sys
import threading
import time


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Counter:
    def __init__(self, names):
        self.lock = threading.Lock()
        self.updates = 0
        self.first = set()
        self.latest = {}
        self.total = len(names)
        self.all_first = threading.Event()

    def seen(self, name, value):
        with self.lock:
            self.updates += 1
            self.latest[name] = value
            if name not in self.first:
                self.first.add(name)
                if len(self.first) == self.total:
                    self.all_first.set()


def subscribe_caproto(names, counter):
    from caproto.threading.client import Context

    context = Context()
    pvs = context.get_pvs(*names, timeout=60)
    keep = []
    for pv in pvs:
        def callback(sub, response, name=pv.name):
            counter.seen(name, float(response.data[0]))

        subscription = pv.subscribe(data_type="time")
        subscription.add_callback(callback)
        keep.append((subscription, callback))
    return keep


def subscribe_pyepics(names, counter):
    import epics

    def callback(pvname=None, value=None, **kwargs):
        counter.seen(pvname, value)

    return [epics.PV(name, callback=callback, form="time", auto_monitor=True) for name in names]


def main():
    library, mode, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    names = json.load(sys.stdin)
    counter = Counter(names)
    subscribe = subscribe_caproto if library == "caproto" else subscribe_pyepics
    started = time.monotonic()
    keep = subscribe(names, counter)
    if mode == "connect":
        complete = counter.all_first.wait(timeout=300)
        print(json.dumps({"seconds": time.monotonic() - started, "connected": len(counter.first), "complete": complete}))
        sys.stdout.flush()
        return keep
    counter.all_first.wait(timeout=60)
    time.sleep(1.0)
    with counter.lock:
        updates0, latest0 = counter.updates, dict(counter.latest)
    cpu0, wall0 = cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    with counter.lock:
        updates1, latest1 = counter.updates, dict(counter.latest)
    cpu1, wall1 = cpu_seconds(), time.monotonic()
    offered = sum(latest1[name] - latest0.get(name, latest1[name]) for name in latest1)
    print(
        json.dumps(
            {"updates": updates1 - updates0, "seconds": wall1 - wall0, "cpuSeconds": cpu1 - cpu0, "offered": offered}
        )
    )
    sys.stdout.flush()
    return keep


if __name__ == "__main__":
    main()
    # Library threads may keep the interpreter alive; the measurement is done.
    import os

    os._exit(0)
