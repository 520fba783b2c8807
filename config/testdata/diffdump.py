"""Print supervisord 4.2.5's diff_to_active result for two configs.

Usage: diffdump.py OLD NEW   (run with /usr/bin/python3)

Both are read with ServerOptions as supervisord would; the groups of OLD
play the active ones, in the order supervisord would have added them.
"""
import json
import platform
import sys

platform.node = lambda: "testhost"

from supervisor.options import ServerOptions  # noqa: E402


def groups(path):
    o = ServerOptions()
    o.realize(args=["-c", path], doc="")
    return o.process_group_configs


def main(old, new):
    cur, new = groups(old), groups(new)
    curdict = dict((c.name, c) for c in cur)
    newdict = dict((c.name, c) for c in new)
    added = [c.name for c in new if c.name not in curdict]
    removed = [c.name for c in cur if c.name not in newdict]
    changed = [c.name for c in new if c != curdict.get(c.name, c)]
    print(json.dumps({"added": added, "changed": changed, "removed": removed}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
