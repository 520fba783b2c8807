#!/usr/bin/python3
"""Writes golden.json: Python's own answers for the pyrepr package.

Run from this directory with the oracle interpreter:
    /usr/bin/python3 gen.py > golden.json
Inputs are hex-encoded bytes. A str input is those bytes decoded the way
Python decodes names from the OS (UTF-8, surrogateescape).
"""
import json
import random
import struct
import sys

STR_CASES = [
    "", "a", "hello world", "it's", 'say "hi"', "both ' and \"",
    "back\\slash", "tab\there", "nl\nend", "cr\rx", "\x00\x01\x1f\x7f",
    "caf\u00e9", "\u00a0nbsp", "\u00ad soft hyphen", "\u0085 nel",
    "\u2028 ls \u2029 ps", "\u3000 ideo space", "\u200b zwsp", "\ufeff bom",
    "\ufffd replacement", "\uffff", "\ue000 private", "\U000f0000",
    "\u4e2d\u6587", "\U0001f600 emoji", "\U0001f6dc new in 15.0",
    "\u0cf3\u0ece", "\U00031350", "\U0010ffff", "\u0378 unassigned",
    "%(ENV_X)s", "'", '"', "'\"", "\\'",
]
BYTES_STR_CASES = [
    b"\xff", b"a\x80b", b"\xc3", b"\xe2\x82", b"\xe2\x82a", b"\xed\xa0\x80",
    b"\xc0\xaf overlong", b"\xf4\x90\x80\x80 too big", b"caf\xc3\xa9\xff'",
]
BYTES_CASES = [
    b"", b"READY\n", b"RESULT 2\nOK", b"it's", b'say "hi"', b"both ' \"",
    b"\\", b"\t\n\r\x0b\x0c", bytes(range(256)), b"\x88\n", b"caf\xc3\xa9",
]
FLOAT_CASES = [
    0.0, -0.0, 1.0, -1.5, 0.1, 1e-4, 1e-5, 0.00012345, 1e15, 1e16, 1e22,
    123456789012345678.0, 1.5e300, 5e-324, 2.2250738585072014e-308,
    1.7976931348623157e308, 3.14159, 100.0, 1e-300, float("inf"),
    float("-inf"), float("nan"), 9007199254740993.0, 0.3, 2.5e-05,
]


def random_str(rng):
    pools = [
        lambda: chr(rng.randrange(0x20, 0x7f)),
        lambda: chr(rng.randrange(0, 0x20)),
        lambda: rng.choice("'\"\\"),
        lambda: chr(rng.randrange(0x80, 0x800)),
        lambda: chr(rng.choice([rng.randrange(0x800, 0xd800),
                                rng.randrange(0xe000, 0x10000)])),
        lambda: chr(rng.randrange(0x10000, 0x110000)),
        lambda: chr(0xdc80 + rng.randrange(0x80)),  # an undecodable byte
    ]
    return "".join(rng.choice(pools)() for _ in range(rng.randrange(0, 12)))


def nonprintable_ranges():
    out, start = [], None
    for c in range(0x110000):
        p = chr(c).isprintable()
        if not p and start is None:
            start = c
        if p and start is not None:
            out.append([start, c - 1])
            start = None
    if start is not None:
        out.append([start, 0x10FFFF])
    return out


def decoded_or_undecodable(data):
    # supervisor/dispatchers.py, OutputDispatcher._log
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "Undecodable: %r" % data


def main():
    rng = random.Random(4250)
    strs = [s.encode("utf-8", "surrogateescape") for s in STR_CASES]
    strs += BYTES_STR_CASES
    strs += [random_str(rng).encode("utf-8", "surrogateescape")
             for _ in range(400)]
    str_out = []
    for raw in strs:
        s = raw.decode("utf-8", "surrogateescape")
        str_out.append({"in": raw.hex(), "repr": repr(s), "ascii": ascii(s)})

    bs = BYTES_CASES + [bytes(rng.randrange(256)
                              for _ in range(rng.randrange(0, 16)))
                        for _ in range(200)]
    bytes_out = [{"in": b.hex(), "repr": repr(b),
                  "decoded": decoded_or_undecodable(b)} for b in bs]

    floats = FLOAT_CASES + [struct.unpack("<d", rng.randbytes(8))[0]
                            for _ in range(200)]
    floats += [rng.uniform(-1e6, 1e6) for _ in range(100)]
    float_out = [{"bits": struct.pack(">d", f).hex(), "repr": repr(f)}
                 for f in floats]

    doc = {
        "python": sys.version.split()[0],
        "str": str_out,
        "bytes": bytes_out,
        "float": float_out,
        "nonprintable": nonprintable_ranges(),
    }
    # One record a line, so a diff of the golden file reads.
    sys.stdout.write("{\n")
    for i, (key, val) in enumerate(doc.items()):
        sys.stdout.write(json.dumps(key) + ": ")
        if isinstance(val, list):
            sys.stdout.write("[\n" + ",\n".join(json.dumps(v) for v in val)
                             + "\n]")
        else:
            sys.stdout.write(json.dumps(val))
        sys.stdout.write(",\n" if i < len(doc) - 1 else "\n")
    sys.stdout.write("}\n")


if __name__ == "__main__":
    main()
