"""A caproto IOC serving the records the CA subscription contract tests use, with the test IOC's names and types.

Usage: python contract_ioc.py --prefix P: [--list-pvs]; the caller sets EPICS_CAS_* (loopback, ports).
"""

import math

from caproto import ChannelType
from caproto.server import PVGroup, ioc_arg_parser, pvproperty, run


class Contract(PVGroup):
    ai = pvproperty(value=0.0, name="ai", units="mA", precision=2, read_only=True)
    mbbi = pvproperty(
        value="Idle",
        name="mbbi",
        dtype=ChannelType.ENUM,
        enum_strings=["Idle", "Ramp", "Hold", "Fault"],
        read_only=True,
    )
    longin = pvproperty(value=0, name="longin", read_only=True)
    stringin = pvproperty(value="0", name="stringin", dtype=ChannelType.STRING, read_only=True)
    double = pvproperty(
        value=0.0,
        name="SIMPLE:DOUBLE",
        units="K",
        upper_alarm_limit=20.0,
        upper_warning_limit=15.0,
        lower_warning_limit=10.0,
        lower_alarm_limit=5.0,
    )
    wf = pvproperty(value=[0.0], name="wf", max_length=1000)
    bigwf = pvproperty(value=[0.0], name="bigwf", max_length=100_000)
    wf_short = pvproperty(value=[-2, -1, 0, 1, 32767], name="wf:short", dtype=ChannelType.INT, max_length=5)
    wf_long = pvproperty(value=[-100000, -1, 0, 1, 100000], name="wf:long", dtype=ChannelType.LONG, max_length=5)
    wf_float = pvproperty(value=[0.5, 1.5, 2.5, 3.5, 4.5], name="wf:float", dtype=ChannelType.FLOAT, max_length=5)
    wf_double = pvproperty(value=[0.25, 1.25, 2.25, 3.25, 4.25], name="wf:double", max_length=5)
    wf_string = pvproperty(
        value=["a", "bb", "ccc", "dddd", "eeeee"], name="wf:string", dtype=ChannelType.STRING, max_length=5
    )
    wf_char = pvproperty(value=[1, 2, 3, 4, 5], name="wf:char", dtype=ChannelType.CHAR, max_length=5)

    @ai.scan(period=0.1)
    async def ai(self, instance, async_lib):
        self._tick = getattr(self, "_tick", 0) + 1
        await instance.write(10 * math.sin(self._tick * 0.05))

    @longin.scan(period=1.0)
    async def longin(self, instance, async_lib):
        count = (instance.value + 1) % 1000
        await instance.write(count)
        await self.stringin.write(f"{count:.6f}")
        await self.mbbi.write(self.mbbi.enum_strings[count % 4])


if __name__ == "__main__":
    ioc_options, run_options = ioc_arg_parser(default_prefix="CONTRACT:", desc=__doc__)
    ioc = Contract(**ioc_options)
    print("IOC Running", flush=True)
    run(ioc.pvdb, **run_options)
