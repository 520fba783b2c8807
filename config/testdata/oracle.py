"""Answer parser-level questions the way supervisor 4.2.5 would.

Reads JSON lines {"kind": ..., "input": ...} on stdin, writes one JSON
line per request. Kinds:
  ini  - UnhosedConfigParser().read_string(input): sections with options,
         [DEFAULT] options, or the error message
  fmt  - expand(input, {'a': 'x', 'n': 3, 'here': '/h'}, 'name')
  env  - dict_of_key_value_pairs(input) as [key, value] pairs
Used by the Go test TestPythonRandom (go test -pyrandom N).
"""
import configparser
import json
import sys

from supervisor.options import UnhosedConfigParser, expand
from supervisor.datatypes import dict_of_key_value_pairs


def ini(text):
    p = UnhosedConfigParser()
    try:
        p.read_string(text, "t.conf")
    except configparser.ParsingError as e:
        return {"error": str(e)}
    out = []
    for s in p.sections():
        out.append([s, [[k, v] for k, v in p._sections[s].items()]])
    return {"sections": out, "defaults": [[k, v] for k, v in p._defaults.items()]}


def fmt(s):
    try:
        return {"out": expand(s, {"a": "x", "n": 3, "here": "/h"}, "name")}
    except ValueError as e:
        return {"error": str(e)}


def env(s):
    try:
        return {"pairs": [[k, v] for k, v in dict_of_key_value_pairs(s).items()]}
    except ValueError as e:
        return {"error": str(e)}


for line in sys.stdin:
    req = json.loads(line)
    print(json.dumps({"ini": ini, "fmt": fmt, "env": env}[req["kind"]](req["input"])))
    sys.stdout.flush()
