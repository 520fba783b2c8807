# Regenerates text_golden.json from Python supervisor: stripEscapes, and the
# main log text for child output (POutputDispatcher._log and
# PEventListenerDispatcher.handle_read_event): go test ./logrot -run TextGolden -update
import base64, json, sys
from supervisor.dispatchers import stripEscapes

def b64(b):
    return base64.b64encode(b).decode()

strip_inputs = [
    b"", b"plain text\n", b"\x1b[31mred\x1b[0m normal\n", b"\x1b[1;32;40mbold green\x1b[m",
    b"a\x1b[2Jb\x1b[Hc", b"no terminator \x1b[123", b"lone \x1b escape", b"\x1b\x1b[0m",
    b"x\x1b[?25ly", b"\x1b[12;34fpos\x1b[K", b"caf\xc3\xa9 \x1b[4mu\x1b[24m \xff\xfe",
    b"[not an escape] \x1b] osc \x07 done", b"\x1b[38;5;208morange\x1b[0m\r\n",
]
names = ["foo", "with'quote", "both'\"", "tab\tname", "caf\u00e9", "x\x7fy"]
datas = [b"hello\n", b"caf\xc3\xa9\n", b"\xff\xfebin\x00\x01'\"\\\n", b"it's", b"\t\r\n"]
out = {"strip": [], "childlog": []}
for s in strip_inputs:
    out["strip"].append({"in": b64(s), "out": b64(stripEscapes(s))})
for name in names:
    for data in datas:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = "Undecodable: %r" % data
        normal = "%(name)r %(channel)s output:\n%(data)s" % {"name": name, "channel": "stdout", "data": text}
        listener = "%r %s output:\n%s" % (name, "stdout", data)
        out["childlog"].append({"name": name, "data": b64(data), "normal": normal, "listener": listener})
sys.stdout.write("{\n")
for i, key in enumerate(["strip", "childlog"]):
    sys.stdout.write('"%s": [\n' % key)
    sys.stdout.write(",\n".join(json.dumps(c, sort_keys=True) for c in out[key]))
    sys.stdout.write("\n]%s\n" % ("," if i == 0 else ""))
sys.stdout.write("}\n")
