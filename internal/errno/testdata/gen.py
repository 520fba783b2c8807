#!/usr/bin/python3
"""Writes golden.json: Python's errno.errorcode on this platform (Linux).
Run from this directory: /usr/bin/python3 gen.py > golden.json
"""
import errno
import json

print(json.dumps({str(k): v for k, v in sorted(errno.errorcode.items())}, indent=1))
