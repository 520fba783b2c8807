# Runs Python supervisor 4.2.5's own PEventListenerDispatcher state machine
# on random listener output streams, split at random points, and records
# after each chunk the listener state, the event in flight, the pool buffer
# and the dispatcher's log lines. The pool side (dispatch to a READY
# listener, rebuffer a rejected event at the head) is EventListenerPool's
# logic reduced to one listener.
#   /usr/bin/python3 testdata/gen_protocol.py   (from the events directory)
import json
import random
from types import SimpleNamespace as NS

from supervisor import events
from supervisor.dispatchers import PEventListenerDispatcher, default_handler
from supervisor.states import EventListenerStates, getEventListenerStateDescription


class Logger:
    def __init__(self):
        self.lines = []
    def debug(self, msg):
        self.lines.append('DEBG ' + msg)
    def warn(self, msg):
        self.lines.append('WARN ' + msg)
    def error(self, msg):
        self.lines.append('ERRO ' + msg)


class Ev:
    def __init__(self, n):
        self.n = n


TOKENS = [b'READY\n', b'RESULT 2\nOK', b'RESULT 4\nFAIL', b'RESULT 0\n', b'RESULT x\n',
          b'RESULT 2\nOKREADY\n', b'garbage!', b'\n', b'RESULT 10\n0123456789', b'RESULT  3 \nabc',
          b'RESULT \xff\n', b'READ', b'Y\n', b'OK']


def run(rnd):
    logger = Logger()
    process = NS(config=NS(name='l1', options=NS(logger=logger)),
                 group=NS(config=NS(result_handler=default_handler)),
                 listener_state=EventListenerStates.ACKNOWLEDGED, event=None)
    d = PEventListenerDispatcher.__new__(PEventListenerDispatcher)
    d.process, d.channel, d.closed = process, 'stdout', False
    d.state_buffer, d.result, d.resultlen, d.childlog = b'', b'', None, None
    queue = [Ev(n) for n in range(6)]

    def rejected(e):
        queue.insert(0, e.event)
    events.clear()
    events.subscribe(events.EventRejectedEvent, rejected)

    # mostly well-behaved conversations: one turn (the answer to an event
    # and the next READY) per write, split at random points; sometimes
    # two turns in one write or a stray token (protocol violations)
    turns = [b'READY\n']
    for _ in range(rnd.randrange(0, 8)):
        if rnd.random() < 0.85:
            turns.append(rnd.choice([b'RESULT 2\nOK', b'RESULT 4\nFAIL', b'RESULT 0\n', b'RESULT 10\n0123456789',
                                     b'RESULT  3 \nabc']) + b'READY\n')
        else:
            turns.append(rnd.choice(TOKENS))
        if rnd.random() < 0.05:
            turns[-2:] = [turns[-2] + turns[-1]]
    chunks = []
    for turn in turns:
        cuts = sorted(set(rnd.randrange(1, len(turn)) for _ in range(rnd.randrange(0, 3)))) if len(turn) > 1 else []
        prev = 0
        for c in cuts + [len(turn)]:
            chunks.append(turn[prev:c])
            prev = c
    steps = []
    for chunk in chunks:
        logger.lines = []
        d.state_buffer += chunk
        d.handle_listener_state_change()
        # EventListenerPool.dispatch for one RUNNING listener
        if process.listener_state == EventListenerStates.READY and queue:
            process.listener_state = EventListenerStates.BUSY
            process.event = queue.pop(0)
        steps.append({
            'state': getEventListenerStateDescription(process.listener_state),
            'event': process.event.n if process.event is not None else -1,
            'queue': [e.n for e in queue],
            'logs': logger.lines,
        })
    events.clear()
    return {'chunks': [c.hex() for c in chunks], 'steps': steps}


rnd = random.Random(425)
cases = [run(rnd) for _ in range(400)]
with open('testdata/protocol.golden.json', 'w') as f:
    json.dump(cases, f, indent=0)
    f.write('\n')
