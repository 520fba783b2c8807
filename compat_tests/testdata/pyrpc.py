"""Persistent XML-RPC client used by the compat harness.

Reads one JSON request per line on stdin and writes one JSON answer per line on
stdout.  A request is
  {"url": "unix:///abs/sock" | "http://127.0.0.1:PORT", "username": ..., "password": ...,
   "client": "supervisor" | "plain", "calls": [[method, arg...], ...]}
and the answer is a list with one typed value per call (see typed()).  Calls use
the same stack real users have: supervisor.xmlrpc.SupervisorTransport (what
supervisorctl and childutils use) or a plain xmlrpc.client.ServerProxy.
"""
import base64
import datetime
import json
import sys
import xmlrpc.client

from supervisor import xmlrpc as sxmlrpc


def typed(v):
    """Encode a decoded XML-RPC value with its wire type, so int and boolean differ."""
    if isinstance(v, bool):
        return {"bool": v}
    if isinstance(v, int):
        return {"int": v}
    if isinstance(v, float):
        return {"double": v}
    if isinstance(v, str):
        return {"str": v}
    if isinstance(v, (list, tuple)):
        return {"array": [typed(x) for x in v]}
    if isinstance(v, dict):
        return {"struct": [[k, typed(x)] for k, x in v.items()]}
    if isinstance(v, xmlrpc.client.Binary):
        return {"base64": base64.b64encode(v.data).decode()}
    if isinstance(v, (xmlrpc.client.DateTime, datetime.datetime)):
        return {"datetime": str(v)}
    if v is None:
        return {"nil": None}
    return {"unknown": repr(v)}


def untyped(v):
    """Decode a JSON argument; {"$double": x} and {"$base64": s} force a wire type."""
    if isinstance(v, dict):
        if "$double" in v:
            return float(v["$double"])
        if "$base64" in v:
            return xmlrpc.client.Binary(v["$base64"].encode())
        return {k: untyped(x) for k, x in v.items()}
    if isinstance(v, list):
        return [untyped(x) for x in v]
    return v


def proxy(req):
    url = req["url"]
    user = req.get("username")
    pw = req.get("password")
    if req.get("client", "supervisor") == "plain":
        if not url.startswith("http://"):
            raise ValueError("plain client needs an http:// url")
        if user is not None:
            url = "http://%s:%s@%s" % (user, pw, url[len("http://"):])
        return xmlrpc.client.ServerProxy(url + "/RPC2")
    transport = sxmlrpc.SupervisorTransport(user, pw, url)
    return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)


def call(p, method, args):
    try:
        obj = p
        for part in method.split("."):
            obj = getattr(obj, part)
        return typed(obj(*[untyped(a) for a in args]))
    except xmlrpc.client.Fault as f:
        return {"fault": [f.faultCode, f.faultString]}
    except xmlrpc.client.ProtocolError as e:
        return {"protocol_error": [e.errcode, e.errmsg]}
    except Exception as e:  # the class name is part of what a client sees
        return {"exception": "%s: %s" % (type(e).__name__, e)}


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        try:
            p = proxy(req)
            out = []
            for c in req["calls"]:
                r = call(p, c[0], c[1:])
                out.append(r)
                if "exception" in r or "protocol_error" in r:
                    # like a new supervisorctl command: a broken connection is not reused
                    p = proxy(req)
        except Exception as e:
            out = {"exception": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
