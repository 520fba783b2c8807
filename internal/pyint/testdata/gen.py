#!/usr/bin/python3
"""Writes golden.json: Python's int(s, base) and str.strip() for the pyint
package. Run from this directory: /usr/bin/python3 gen.py > golden.json
"""
import json

INPUTS = [
    "0", "7", "-7", "+7", " 42 ", "\t42\n", "007", "0o17", "0O17", "0o_17",
    "1_000", "_1", "1_", "1__0", "", " ", "+", "-", "1.5", "0x10", "8", "9",
    "1e3", "abc", "\u0663", "\u0663\u0664", "\uff11\uff12", "\U0001d7d9",
    "\u00a0 12 \u3000", "\u200b12", "\x1c12\x1f", "\x8512", "1 2",
    "9223372036854775807", "99999999999999999999", "-99999999999999999999",
    "0_0", "00", "-0", "0o", "0o8", "777", "0777",
    "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
    "18446744073709551615", "18446744073709551616", "1_8446744073709551616_0",
    "4611686018427387904", "-4611686018427387903", "0o1777777777777777777777",
    "0o2000000000000000000000", "99999999999999999999x",
]


def parse(s, base):
    try:
        return {"in": s, "base": base, "int": int(s, base)}
    except ValueError as e:
        return {"in": s, "base": base, "err": str(e)}


print(json.dumps({
    "parse": [parse(s, b) for b in (10, 8) for s in INPUTS],
    "space": [c for c in range(0x3001) if chr(c).isspace()],
}, indent=1, sort_keys=True, ensure_ascii=True))
