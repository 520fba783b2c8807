#!/usr/bin/python3
"""Writes golden.json: Python's shlex answers for inputs.json, in the two
modes supervisor uses: shlex.split(s) (POSIX, for command) and
list(shlex.shlex(s)) with supervisor's extra word characters (non-POSIX,
for environment). Run from this directory:
    /usr/bin/python3 gen.py > golden.json
"""
import json
import shlex


def split(s):
    try:
        return {"out": shlex.split(s)}
    except ValueError as e:
        return {"err": str(e)}


def tokens(s):
    lexer = shlex.shlex(s)
    lexer.wordchars += "/.+-():"
    try:
        return {"out": list(lexer)}
    except ValueError as e:
        return {"err": str(e)}


inputs = json.load(open("inputs.json"))
print(json.dumps([{"in": s, "split": split(s), "tokens": tokens(s)} for s in inputs],
                 indent=1, ensure_ascii=True))
