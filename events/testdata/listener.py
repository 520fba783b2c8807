# A hand-written event listener in the style of superlance, using
# supervisor.childutils from Python supervisor 4.2.5. It logs every event it
# gets as a JSON line on stderr and answers:
#   payload containing "reject-me": FAIL the first time (marker file .rej)
#   payload containing "die": exit without answering the first time (marker)
#   payload containing "quit": OK, then exit 0
#   anything else: OK
import json
import os
import sys

from supervisor import childutils

marker = sys.argv[1]
while True:
    headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
    # crashmail, memmon and httpok parse payloads this way
    parsed, data = childutils.eventdata(payload + '\n')
    sys.stderr.write(json.dumps({'headers': headers, 'payload': payload,
                                 'parsed': parsed, 'data': data}) + '\n')
    sys.stderr.flush()
    if 'die' in payload and not os.path.exists(marker):
        open(marker, 'w').close()
        os._exit(3)
    if 'reject-me' in payload and not os.path.exists(marker + '.rej'):
        open(marker + '.rej', 'w').close()
        childutils.listener.fail(sys.stdout)
        continue
    childutils.listener.ok(sys.stdout)
    if 'quit' in payload:
        sys.exit(0)
