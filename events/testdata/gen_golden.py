# Generates the golden envelopes and bytes reprs with Python supervisor
# 4.2.5's own code (Debian's package):
#   /usr/bin/python3 testdata/gen_golden.py   (from the events directory)
import json
from types import SimpleNamespace as NS
from supervisor import events
from supervisor.process import EventListenerPool
from supervisor.states import ProcessStates
from supervisor.supervisord import timeslice

cases = json.load(open('testdata/cases.json'))
out = []
for i, c in enumerate(cases):
    k = c['kind']
    if k in ('state', 'log', 'comm'):
        group = NS(config=NS(name=c['group'])) if c['group'] else None
        proc = NS(config=NS(name=c['process']), group=group,
                  pid=c.get('pid', 0), backoff=c.get('tries', 0))
    if k == 'state':
        cls = getattr(events.EventTypes, 'PROCESS_STATE_' + c['to'])
        ev = cls(proc, getattr(ProcessStates, c['from']), c.get('expected', True))
    elif k in ('log', 'comm'):
        kind = 'PROCESS_LOG_' if k == 'log' else 'PROCESS_COMMUNICATION_'
        cls = getattr(events.EventTypes, kind + c['channel'].upper())
        ev = cls(proc, c['pid'], bytes.fromhex(c['data_hex']))
    elif k == 'remote':
        ev = events.RemoteCommunicationEvent(c['type'], c['data'])
    elif k == 'supervisor':
        ev = (events.SupervisorRunningEvent if c['running'] else events.SupervisorStoppingEvent)()
    elif k == 'tick':
        cls = getattr(events.EventTypes, c['type'])
        ev = cls(timeslice(cls.period, c['when']), None)
    elif k == 'group':
        ev = (events.ProcessGroupAddedEvent if c['added'] else events.ProcessGroupRemovedEvent)(c['group'])
    pool = NS(config=NS(name='pool%d' % (i % 3), options=NS(identifier='supervisor' if i % 2 else 'my-id')))
    env = EventListenerPool._eventEnvelope(pool, ev.__class__, 100 + i, i, ev.payload())
    out.append({'name': c['name'], 'identifier': pool.config.options.identifier,
                'pool': pool.config.name, 'serial': 100 + i, 'poolserial': i,
                'envelope': env})
with open('testdata/envelopes.golden.json', 'w') as f:
    json.dump(out, f, indent=1)
    f.write('\n')

