# Regenerates read_golden.json from Python supervisor's own readFile and
# tailFile: go test ./logrot -run ReadGolden -update
import base64, json, os, sys
from supervisor.options import readFile, tailFile

here = os.path.dirname(os.path.abspath(__file__))
files = ["errline.txt", "empty.txt", "big.txt"]
offsets = [-100000000, -5000, -3000, -400, -10, -5, -4, -1, 0, 1, 2, 5, 8, 9, 10,
           100, 1024, 2999, 3000, 3001, 100000000]
lengths = [-5, -1, 0, 1, 3, 100, 1024, 2999, 5000]
out = {"read": [], "tail": []}
for name in files:
    path = os.path.join(here, "read", name)
    for off in offsets:
        for ln in lengths:
            try:
                data = readFile(path, off, ln)
                out["read"].append({"file": name, "offset": off, "length": ln,
                                    "data": base64.b64encode(data).decode(), "error": ""})
            except ValueError as e:
                out["read"].append({"file": name, "offset": off, "length": ln,
                                    "data": "", "error": e.args[0]})
            data, newoff, overflow = tailFile(path, off, ln)
            out["tail"].append({"file": name, "offset": off, "length": ln,
                                "data": base64.b64encode(data.encode()).decode(),
                                "newoffset": newoff, "overflow": overflow})
# One case per line keeps diffs readable.
sys.stdout.write("{\n")
for i, key in enumerate(["read", "tail"]):
    sys.stdout.write('"%s": [\n' % key)
    sys.stdout.write(",\n".join(json.dumps(c, sort_keys=True) for c in out[key]))
    sys.stdout.write("\n]%s\n" % ("," if i == 0 else ""))
sys.stdout.write("}\n")
