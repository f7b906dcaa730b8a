"""Runs EPICS base's IOC (rsrv for CA, QSRV/pvxs for PVA) from the pvxslibs wheels, without an interactive shell.

Usage: python run_ioc.py -m P=PREFIX: -d test.db [-d other.db ...]
The caller sets the EPICS_* environment (ports, loopback-only interface and beacon lists).
Prints "IOC Running" once the records are served and runs until SIGTERM/SIGINT.
"""

import argparse
import os
import signal
import sys

os.environ.setdefault("PVXS_QSRV_ENABLE", "YES")

from epicscorelibs import ioc  # noqa: E402
import pvxslibs.path  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-m", "--macros", default="")
    parser.add_argument("-d", "--database", action="append", default=[])
    args = parser.parse_args()
    ioc.start_ioc(
        dbs=[(db, args.macros) for db in args.database],
        extra_dbd_load=(("pvxsIoc.dbd", pvxslibs.path.dbd_path),),
        extra_dso_load=("pvxslibs.lib.pvxsIoc",),
    )
    sys.stdout.flush()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
