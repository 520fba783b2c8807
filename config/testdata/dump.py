"""Dump what supervisord 4.2.5's ServerOptions makes of a config as JSON.

Usage: dump.py CONFIG [supervisord args...]   (run with /usr/bin/python3)
       dump.py --batch < list-of-configs

The Go test config.TestDifferential prints the Go loader's result in the
same shape. Run it with the working directory and environment the test
uses (see differential_test.go); platform.node() is pinned to "testhost".
"""
import json
import platform
import sys

platform.node = lambda: "testhost"

from supervisor.options import (ServerOptions, ClientOptions,  # noqa: E402
                                EventListenerPoolConfig, FastCGIGroupConfig)
from supervisor.datatypes import (Automatic, RestartUnconditionally,  # noqa: E402
                                  RestartWhenExitUnexpected)
from supervisor.events import EventTypes  # noqa: E402


class Usage(Exception):
    pass


def logfile(v):
    if v is Automatic:
        return "AUTO"
    return v or None


def autorestart(v):
    if v is RestartUnconditionally:
        return "always"
    if v is RestartWhenExitUnexpected:
        return "unexpected"
    return "never"


def env(d):
    return [[k, v] for k, v in (d or {}).items()]


def event_name(cls):
    for k in dir(EventTypes):
        if getattr(EventTypes, k) is cls:
            return k
    return repr(cls)


def spec(fn):
    return "%s:%s" % (fn.__module__, fn.__name__)


def process(p):
    return {
        "name": p.name, "command": p.command, "uid": p.uid,
        "directory": p.directory or None, "umask": p.umask,
        "priority": p.priority, "autostart": p.autostart,
        "autorestart": autorestart(p.autorestart),
        "startsecs": p.startsecs, "startretries": p.startretries,
        "stopsignal": p.stopsignal, "stopwaitsecs": p.stopwaitsecs,
        "stopasgroup": p.stopasgroup, "killasgroup": p.killasgroup,
        "exitcodes": p.exitcodes, "redirect_stderr": p.redirect_stderr,
        "environment": env(p.environment),
        "serverurl": "AUTO" if p.serverurl is None else p.serverurl,
        "stdout": channel(p, "stdout"), "stderr": channel(p, "stderr"),
    }


def channel(p, ch):
    g = lambda k: getattr(p, "%s_%s" % (ch, k))  # noqa: E731
    return {"logfile": logfile(g("logfile")), "maxbytes": g("logfile_maxbytes"),
            "backups": g("logfile_backups"), "capture_maxbytes": g("capture_maxbytes"),
            "events_enabled": g("events_enabled"), "syslog": g("syslog")}


def group(g):
    out = {"name": g.name, "priority": g.priority, "kind": "program",
           "processes": [process(p) for p in g.process_configs]}
    if isinstance(g, EventListenerPoolConfig):
        out["kind"] = "eventlistener"
        out["buffer_size"] = g.buffer_size
        out["events"] = sorted(event_name(e) for e in g.pool_events)
        out["result_handler"] = spec(g.result_handler)
    elif isinstance(g, FastCGIGroupConfig):
        s = g.socket_config
        out["kind"] = "fcgi"
        owner = getattr(s, "owner", None)
        out["socket"] = {"url": s.url, "backlog": s.backlog or 0,
                         "owner": list(owner) if owner else [-1, -1],
                         "mode": getattr(s, "mode", None) or 0}
    return out


def server(s):
    return {"section": s["section"], "name": s["name"] or "",
            "family": "unix" if "file" in s else "inet",
            "host": s.get("host", ""), "port": s.get("port", 0),
            "file": s.get("file", ""), "chmod": s.get("chmod", 0),
            "chown": list(s.get("chown", (-1, -1))),
            "username": s["username"] or "", "password": s["password"] or ""}


def ctl(path):
    o = ClientOptions()
    try:
        o.read_config(path)
    except Exception:
        return None
    c = o.configroot.supervisorctl
    return {"serverurl": c.serverurl, "username": c.username or "",
            "password": c.password or "", "prompt": c.prompt,
            "history_file": c.history_file or ""}


def dump(path, args):
    o = ServerOptions()

    def usage(msg):
        raise Usage(str(msg))
    o.usage = usage
    try:
        o.realize(args=["-c", path] + args, doc="")
    except Usage as e:
        return {"error": str(e)}
    return {
        "supervisord": {
            "logfile": o.logfile, "logfile_maxbytes": o.logfile_maxbytes,
            "logfile_backups": o.logfile_backups, "loglevel": o.loglevel,
            "pidfile": o.pidfile, "umask": o.umask, "nodaemon": bool(o.nodaemon),
            "silent": bool(o.silent), "minfds": o.minfds, "minprocs": o.minprocs,
            "nocleanup": bool(o.nocleanup), "strip_ansi": bool(o.strip_ansi),
            "childlogdir": o.childlogdir, "user": o.user, "uid": o.uid,
            "gid": o.gid, "directory": o.directory, "identifier": o.identifier,
            "environment": env(o.configroot.supervisord.environment),
        },
        "serverurl": o.serverurl or "",
        "servers": [server(s) for s in o.server_configs],
        "rpcinterfaces": [{"name": n, "factory": spec(f), "options": x}
                          for n, f, x in o.rpcinterface_factories],
        "groups": [group(g) for g in o.process_group_configs],
        "criticals": o.parse_criticals, "warnings": o.parse_warnings,
        "infos": o.parse_infos,
        "ctl": ctl(path),
    }


if __name__ == "__main__":
    if sys.argv[1] == "--batch":
        # one JSON document per line for each config named on stdin
        for line in sys.stdin:
            try:
                out = dump(line.strip(), [])
            except Exception as e:  # Python itself crashed (a traceback)
                out = {"traceback": "%s: %s" % (type(e).__name__, e)}
            print(json.dumps(out, sort_keys=True))
            sys.stdout.flush()
    else:
        print(json.dumps(dump(sys.argv[1], sys.argv[2:]), indent=1, sort_keys=True))
