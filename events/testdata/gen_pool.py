# Runs Python supervisor 4.2.5's own EventListenerPool (buffer, serials,
# dispatch, rebuffering) and PEventListenerDispatcher with two fake listener
# processes through random operation sequences, recording after each
# operation the buffer, each listener's state, what each was sent and the
# WARN/ERRO log lines.
#   /usr/bin/python3 testdata/gen_pool.py   (from the events directory)
import errno
import json
import random
from types import SimpleNamespace as NS

from supervisor import events, process as sprocess
from supervisor.dispatchers import PEventListenerDispatcher, default_handler
from supervisor.process import EventListenerPool
from supervisor.states import EventListenerStates, ProcessStates, getEventListenerStateDescription


class Logger:
    def __init__(self):
        self.lines = []
    def debug(self, msg):
        pass
    def info(self, msg):
        pass
    def warn(self, msg):
        self.lines.append('WARN ' + msg)
    def error(self, msg):
        self.lines.append('ERRO ' + msg)


class Proc:
    def __init__(self, name, options, group):
        self.config = NS(name=name, options=options)
        self.group = group
        self.state = ProcessStates.STOPPED
        self.listener_state = None
        self.event = None
        self.broken = False
        self.sent = []
        self.dispatcher = None

    def transition(self):
        pass

    def write(self, chars):
        if self.broken:
            raise OSError(errno.EPIPE, 'broken pipe')
        head = chars.decode().split('\n', 1)[0]
        h = dict(x.split(':', 1) for x in head.split())
        self.sent.append('%s/%s' % (h['serial'], h['poolserial']))

    def spawn(self):
        d = PEventListenerDispatcher.__new__(PEventListenerDispatcher)
        d.process, d.channel, d.closed = self, 'stdout', False
        d.state_buffer, d.result, d.resultlen, d.childlog = b'', b'', None, None
        self.listener_state = EventListenerStates.ACKNOWLEDGED
        self.event = None
        self.dispatcher = d
        self.broken = False
        self.state = ProcessStates.RUNNING

    def feed(self, data):
        if self.state != ProcessStates.RUNNING:
            return
        self.dispatcher.state_buffer += data
        self.dispatcher.handle_listener_state_change()

    def finish(self):
        # Subprocess.finish's listener part
        self.state = ProcessStates.EXITED
        self.dispatcher = None
        if self.event is not None:
            events.notify(events.EventRejectedEvent(self, self.event))
            self.event = None


def run(rnd):
    events.clear()
    sprocess.GlobalSerial.serial = -1
    logger = Logger()
    options = NS(logger=logger, identifier='supervisor')
    group = NS(config=NS(result_handler=default_handler))
    config = NS(name='p', buffer_size=3, options=options,
                pool_events=[events.EventTypes.REMOTE_COMMUNICATION], result_handler=default_handler)
    pool = EventListenerPool.__new__(EventListenerPool)
    pool.config, pool.event_buffer, pool.serial = config, [], -1
    pool.last_dispatch, pool.dispatch_throttle = 0, 0
    procs = [Proc('l0', options, group), Proc('l1', options, group)]
    pool.processes = {p.config.name: p for p in procs}
    pool._subscribe()
    for p in procs:
        p.spawn()

    ops, steps = [], []
    for _ in range(rnd.randrange(5, 40)):
        i = rnd.randrange(2)
        p = procs[i]
        op = rnd.choices(['pub', 'ready', 'ok', 'fail', 'exit', 'spawn', 'break'],
                         [30, 20, 20, 8, 4, 15, 2])[0]
        # mostly follow the protocol; sometimes violate it
        if rnd.random() < 0.92:
            if op == 'ready' and p.listener_state != EventListenerStates.ACKNOWLEDGED:
                continue
            if op in ('ok', 'fail') and p.listener_state != EventListenerStates.BUSY:
                continue
        if op == 'pub':
            events.notify(events.RemoteCommunicationEvent('t', 'x'))
        elif op == 'ready':
            p.feed(b'READY\n')
        elif op == 'ok':
            p.feed(b'RESULT 2\nOK')
        elif op == 'fail':
            p.feed(b'RESULT 4\nFAIL')
        elif op == 'exit':
            if p.state != ProcessStates.RUNNING:
                continue
            p.finish()
        elif op == 'spawn':
            if p.state == ProcessStates.RUNNING:
                continue
            p.spawn()
        elif op == 'break':
            if p.state != ProcessStates.RUNNING:
                continue
            p.broken = True
        pool.transition()  # one main loop iteration: dispatch
        ops.append('%s:%d' % (op, i))
        steps.append({
            'buffer': [e.serial for e in pool.event_buffer],
            'listeners': ['%s %s %d %s' % (
                getEventListenerStateDescription(q.listener_state),
                'up' if q.state == ProcessStates.RUNNING else 'down',
                q.event.serial if q.event is not None else -1,
                ','.join(q.sent)) for q in procs],
            'logs': logger.lines,
        })
        logger.lines = []
        for q in procs:
            q.sent = []
    events.clear()
    return {'ops': ops, 'steps': steps}


rnd = random.Random(4250)
cases = [run(rnd) for _ in range(300)]
with open('testdata/pool.golden.json', 'w') as f:
    json.dump(cases, f, indent=0)
    f.write('\n')
