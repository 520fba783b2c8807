#!/usr/bin/env bash
# Runs the shared Python harness (../shared/bench/bench.py, beside the repo)
# on Python supervisord and on ours, back to back, then prints one table.
#
#   bench/run-shared.sh [-q] [-o DIR] [-- extra bench.py options]
#
# -q   quick mode (256 MiB log, fewer samples)
# -o   results directory (default: a new temp dir); python.json and
#      ours.json land there
# Extra options go to both bench.py runs, e.g. -- --only startup1000,shutdown
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED_BENCH:-$root/../shared/bench}
quick=()
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    -q) quick=(--quick); shift ;;
    -o) out=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "usage: $0 [-q] [-o DIR] [-- bench.py options]" >&2; exit 2 ;;
  esac
done
if [ ! -f "$shared/bench.py" ]; then
  echo "run-shared.sh: no $shared/bench.py (set SHARED_BENCH)" >&2
  exit 1
fi
python=${PYTHON_SUPERVISORD:-/usr/bin/supervisord}
[ -x "$python" ] || { echo "run-shared.sh: $python missing (apt-get install supervisor)" >&2; exit 1; }
[ -n "$out" ] || out=$(mktemp -d /tmp/bench-shared.XXXXXX)
mkdir -p "$out"
bin=$(mktemp -d /tmp/bench-shared-bin.XXXXXX)
trap 'rm -rf "$bin"' EXIT
export PATH="/usr/local/go/bin:$PATH"
(cd "$root" && CGO_ENABLED=0 go build -o "$bin/supervisord" ./cmd/supervisord)

/usr/bin/python3 "$shared/bench.py" --supervisord "$python" --name python --out "$out/python.json" "${quick[@]}" "$@"
/usr/bin/python3 "$shared/bench.py" --supervisord "$bin/supervisord" --name ours --out "$out/ours.json" "${quick[@]}" "$@"
echo
/usr/bin/python3 "$shared/summarize.py" "$out"
echo "results: $out"
