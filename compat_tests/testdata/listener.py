"""Event listener fixture: records every envelope it receives into a file.

Usage: listener.py OUTFILE [reject_first]
Each event is appended as the raw header line, the payload and a newline.  With
reject_first, the first event gets RESULT 4\nFAIL (so the pool re-sends it).
"""
import sys


def main():
    out = open(sys.argv[1], "a", encoding="utf-8")
    reject = len(sys.argv) > 2 and sys.argv[2] == "reject_first"
    stdin = sys.stdin
    stdout = sys.stdout
    stdout.write("READY\n")
    stdout.flush()
    while True:
        line = stdin.readline()
        if not line:
            return
        headers = dict(tok.split(":", 1) for tok in line.split())
        payload = stdin.read(int(headers["len"]))
        out.write(line + payload + "\n")
        out.flush()
        if reject:
            reject = False
            stdout.write("RESULT 4\nFAIL")
        else:
            stdout.write("RESULT 2\nOK")
        stdout.write("READY\n")
        stdout.flush()


if __name__ == "__main__":
    main()
