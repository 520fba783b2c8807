#!/usr/bin/python3
"""Writes golden.json: Python supervisor 4.2.5's answers for the signals
package on this platform (Linux).

Run from this directory with the oracle interpreter:
    /usr/bin/python3 gen.py > golden.json
"""
import json
import os
import signal

from supervisor.datatypes import signal_number
from supervisor.options import decode_wait_status, signame

NAMES = sorted(k for k in dir(signal) if k.startswith("SIG"))
VALUES = NAMES + [n[3:] for n in NAMES] + [n.lower() for n in NAMES] + [
    " hup ", "\thup\n", "sigterm", "Term", "9", " 9 ", "+9", "-1", "0", "1_5",
    "0x9", "1.5", "", " ", "foo", "SIG", "sig_dfl", "_dfl", "rtmin", "RTMIN+1",
    "32", "33", "34", "35", "63", "64", "65", "99", "1000", "\u0663", "\u0669",
    "SIGTERM ", "ſigterm", "\u00a0hup", "kill\x00",
]


def number(v):
    try:
        return {"in": v, "num": signal_number(v)}
    except ValueError as e:
        return {"in": v, "err": str(e)}


def status(ws):
    es, msg = decode_wait_status(ws)
    return {"ws": ws, "es": es, "msg": msg}


STATUSES = [0, 1 << 8, 255 << 8, 42 << 8] + [s for s in range(1, 66)] + \
    [s | 0x80 for s in (6, 11, 33)] + [0x137f, 0xffff]

print(json.dumps({
    "names": [{"num": n, "name": signame(n)} for n in range(0, 66)],
    "numbers": [number(v) for v in VALUES],
    "statuses": [status(ws) for ws in STATUSES],
}, indent=1, sort_keys=True, ensure_ascii=True))
