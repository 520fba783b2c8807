#!/usr/bin/python3
"""Capture raw HTTP exchanges from the real Python supervisord 4.2.5.

Usage: capture.py OUTDIR
Starts /usr/bin/supervisord with a temp config (unix socket, no auth, plus an
inet server with auth on a random 127.0.0.1 port), sends each request below
over a fresh raw socket, stores NAME.req and NAME.resp in OUTDIR, and stops
supervisord by its PID. The Go golden tests replay NAME.req against the Go
server (backed by a fake that mirrors this config) and compare responses.
"""
import os, sys
sys.path.insert(0, "/usr/lib/python3/dist-packages")
import os, socket, subprocess, tempfile, time, signal, base64

OUT = sys.argv[1]
tmp = tempfile.mkdtemp(prefix='capture-')
sock = os.path.join(tmp, 's.sock')
port = 0
s = socket.socket(); s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]; s.close()
with open(os.path.join(tmp, 'err.log'), 'w') as f:
    f.write('err line\n')
conf = f"""
[unix_http_server]
file={sock}
[inet_http_server]
port=127.0.0.1:{port}
username=user
password={{SHA}}a94a8fe5ccb19ba61c4c0873d391e987982fbbd3
[supervisord]
logfile={tmp}/main.log
pidfile={tmp}/sd.pid
identifier=capture
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[program:sleeper]
command=/bin/sleep 1000
autostart=false
stdout_logfile={tmp}/out.log
stderr_logfile={tmp}/err.log
[program:nolog]
command=/bin/sleep 1000
autostart=false
stdout_logfile=NONE
stderr_logfile=NONE
"""
cfg = os.path.join(tmp, 'supervisord.conf')
open(cfg, 'w').write(conf)
p = subprocess.Popen(['/usr/bin/supervisord', '-n', '-c', cfg],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

def call_xml(method, params=''):
    body = ("<?xml version='1.0'?>\n<methodCall>\n<methodName>%s</methodName>\n"
            "<params>\n%s</params>\n</methodCall>\n" % (method, params))
    return body

def post(body, extra=b''):
    if isinstance(body, str):
        body = body.encode()
    return (b'POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: identity\r\n'
            b'User-Agent: Python-xmlrpc/3.11\r\nContent-Type: text/xml\r\nAccept: text/xml\r\n'
            + extra + b'Content-Length: ' + str(len(body)).encode() + b'\r\n\r\n' + body)

def sparam(v):
    return '<param>\n<value><string>%s</string></value>\n</param>\n' % v
def iparam(v):
    return '<param>\n<value><int>%d</int></value>\n</param>\n' % v

reqs = {
  'getAPIVersion': post(call_xml('supervisor.getAPIVersion')),
  'getVersion': post(call_xml('supervisor.getVersion')),
  'getSupervisorVersion': post(call_xml('supervisor.getSupervisorVersion')),
  'getIdentification': post(call_xml('supervisor.getIdentification')),
  'getState': post(call_xml('supervisor.getState')),
  'listMethods': post(call_xml('system.listMethods')),
  'methodHelp_unknown': post(call_xml('system.methodHelp', sparam('nope.x'))),
  'methodSignature_unknown': post(call_xml('system.methodSignature', sparam('supervisor.nope'))),
  'unknown_method': post(call_xml('supervisor.nope')),
  'unknown_ns': post(call_xml('nope.getState')),
  'dots3': post(call_xml('supervisor.supervisord.options.execve')),
  'underscore': post(call_xml('system._listMethods')),
  'dunder_class': post(call_xml('system.__class__')),
  'nodots': post(call_xml('getState')),
  'wrong_arity': post(call_xml('supervisor.getState', sparam('x'))),
  'no_params_elem': post("<?xml version='1.0'?>\n<methodCall><methodName>supervisor.getAPIVersion</methodName></methodCall>"),
  'bad_name': post(call_xml('supervisor.getProcessInfo', sparam('nosuch'))),
  'group_spec_bad_name': post(call_xml('supervisor.getProcessInfo', sparam('sleeper:*'))),
  'readLog_bad_args': post(call_xml('supervisor.readLog', iparam(0) + iparam(-5))),
  'readLog_bad_args2': post(call_xml('supervisor.readLog', iparam(-100) + iparam(5))),
  'readStderr': post(call_xml('supervisor.readProcessStderrLog', sparam('sleeper') + iparam(2) + iparam(3))),
  'readStderr_neg': post(call_xml('supervisor.readProcessStderrLog', sparam('sleeper') + iparam(-4) + iparam(0))),
  'readStderr_strargs': post(call_xml('supervisor.readProcessStderrLog', sparam('sleeper') + sparam('2') + sparam('3'))),
  'readStderr_nofile_none': post(call_xml('supervisor.readProcessStderrLog', sparam('nolog') + iparam(0) + iparam(0))),
  'readStdout_missing': post(call_xml('supervisor.readProcessStdoutLog', sparam('sleeper') + iparam(0) + iparam(0))),
  'tailStderr_0_3': post(call_xml('supervisor.tailProcessStderrLog', sparam('sleeper') + iparam(0) + iparam(3))),
  'tailStderr_5_100': post(call_xml('supervisor.tailProcessStderrLog', sparam('sleeper') + iparam(5) + iparam(100))),
  'tailStderr_100_3': post(call_xml('supervisor.tailProcessStderrLog', sparam('sleeper') + iparam(100) + iparam(3))),
  'tailStdout_missing': post(call_xml('supervisor.tailProcessStdoutLog', sparam('sleeper') + iparam(0) + iparam(3))),
  'stop_not_running': post(call_xml('supervisor.stopProcess', sparam('sleeper'))),
  'signal_bad': post(call_xml('supervisor.signalProcess', sparam('sleeper') + sparam('NOPE'))),
  'signal_not_running': post(call_xml('supervisor.signalProcess', sparam('sleeper') + sparam('HUP'))),
  'signal_group_empty': post(call_xml('supervisor.signalProcessGroup', sparam('sleeper') + sparam('HUP'))),
  'stdin_int': post(call_xml('supervisor.sendProcessStdin', sparam('sleeper') + iparam(5))),
  'stdin_not_running': post(call_xml('supervisor.sendProcessStdin', sparam('sleeper') + sparam('hi'))),
  'remove_bad': post(call_xml('supervisor.removeProcessGroup', sparam('nosuch'))),
  'add_already': post(call_xml('supervisor.addProcessGroup', sparam('sleeper'))),
  'add_bad': post(call_xml('supervisor.addProcessGroup', sparam('nosuch'))),
  'stopgroup_none_running': post(call_xml('supervisor.stopProcessGroup', sparam('sleeper'))),
  'multicall': post(call_xml('system.multicall',
      '<param><value><array><data>'
      '<value><struct><member><name>methodName</name><value><string>supervisor.getAPIVersion</string></value></member></struct></value>'
      '<value><struct><member><name>methodName</name><value>supervisor.nope</value></member></struct></value>'
      '<value><struct><member><name>params</name><value><array><data></data></array></value></member></struct></value>'
      '<value><struct><member><name>methodName</name><value>system.multicall</value></member><member><name>params</name><value><array><data/></array></value></member></struct></value>'
      '<value><struct><member><name>methodName</name><value>supervisor.getState</value></member><member><name>params</name><value><array><data><value>x</value></data></array></value></member></struct></value>'
      '<value><struct><member><name>methodName</name><value>system.methodSignature</value></member><member><name>params</name><value><array><data><value>supervisor.readLog</value></data></array></value></member></struct></value>'
      '</data></array></value></param>')),
  'base64_name': post(call_xml('supervisor.getProcessInfo', '<param><value><base64>%s</base64></value></param>' % base64.b64encode(b'nosuch').decode())),
  'i8_name': post(call_xml('supervisor.getProcessInfo', '<param><value><i8>5</i8></value></param>')),
  'bool_param': post(call_xml('supervisor.getProcessInfo', '<param><value><boolean>1</boolean></value></param>')),
  'nonascii_name': post(call_xml('supervisor.getProcessInfo', sparam('h\u00e9llo&amp;&lt;x&gt;'))),
  'get_rpc2': b'GET /RPC2 HTTP/1.1\r\nHost: localhost\r\n\r\n',
  'post_no_length': b'POST /RPC2 HTTP/1.0\r\nHost: localhost\r\n\r\n',
  'post_bad_xml': post('<methodCall><methodName>x</methodName>'),
  'post_no_method': post('<methodCall><params></params></methodCall>'),
  'post_rpc2xyz': post(call_xml('supervisor.getAPIVersion')).replace(b'/RPC2', b'/RPC2xyz', 1),
  'logtail_unknown': b'GET /logtail/nosuch HTTP/1.1\r\nHost: localhost\r\n\r\n',
  'logtail_missing_file': b'GET /logtail/sleeper HTTP/1.1\r\nHost: localhost\r\n\r\n',
  'logtail_post': b'POST /logtail/sleeper HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n',
  'ok_html': b'GET /ok.html HTTP/1.1\r\nHost: localhost\r\n\r\n',
  'static_missing': b'GET /nosuch.css HTTP/1.1\r\nHost: localhost\r\n\r\n',
  'static_post': b'POST /nosuch.css HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n',
  'http10_keepalive': post(call_xml('supervisor.getAPIVersion')).replace(b'HTTP/1.1', b'HTTP/1.0', 1).replace(b'Host:', b'Connection: keep-alive\r\nHost:', 1),
  'http11_close': post(call_xml('supervisor.getAPIVersion')).replace(b'Host:', b'Connection: close\r\nHost:', 1),
  'logtail_noname': b'GET /logtail HTTP/1.1\r\nHost: localhost\r\n\r\n',
  'logtail_stderr': b'GET /logtail/sleeper/stderr HTTP/1.1\r\nHost: \r\nAccept-Encoding: chunked\r\nAccept: */*\r\nUser-agent: Supervisor HTTP Client\r\n\r\n\r\n',
  'logtail_stderr_http10': b'GET /logtail/sleeper/stderr HTTP/1.0\r\n\r\n',
  'mainlogtail': b'GET /mainlogtail HTTP/1.1\r\nHost: \r\n\r\n',
  'ui_refresh': b'GET /index.html?action=refresh HTTP/1.1\r\nHost: myhost:9001\r\n\r\n',
  'ui_bad_action': b'GET /index.html?action=nope HTTP/1.1\r\nHost: myhost:9001\r\n\r\n',
  'ui_nosuch': b'GET /?action=start&processname=nosuch HTTP/1.1\r\nHost: myhost:9001\r\n\r\n',
  'ui_index': b'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n',
  'ui_tail_nofile': b'GET /tail.html?processname=sleeper HTTP/1.1\r\nHost: localhost\r\n\r\n',
  'ui_tail_noname': b'GET /tail.html HTTP/1.1\r\nHost: localhost\r\n\r\n',
  'ui_post_refresh': b'POST /index.html HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 14\r\n\r\naction=refresh',
  'static_dir': b'GET /images HTTP/1.1\r\nHost: localhost\r\n\r\n',
  'head_ok': b'HEAD /ok.html HTTP/1.1\r\nHost: localhost\r\n\r\n',
  'keepalive_two': post(call_xml('supervisor.getAPIVersion')) + post(call_xml('supervisor.getIdentification')),
}
for m in ['system.listMethods', 'system.methodHelp', 'system.methodSignature', 'system.multicall']:
    pass

inet_reqs = {
  'auth_none': post(call_xml('supervisor.getAPIVersion')),
  'auth_ok': post(call_xml('supervisor.getAPIVersion'), b'Authorization: Basic ' + base64.b64encode(b'user:test') + b'\r\n'),
  'auth_bad': post(call_xml('supervisor.getAPIVersion'), b'Authorization: Basic ' + base64.b64encode(b'user:nope') + b'\r\n'),
  'auth_scheme': post(call_xml('supervisor.getAPIVersion'), b'Authorization: Digest abc\r\n'),
  'auth_ok_lower': post(call_xml('supervisor.getAPIVersion'), b'authorization: bAsIc ' + base64.b64encode(b'user:test') + b'\r\n'),
  'auth_static': b'GET /ok.html HTTP/1.1\r\nHost: localhost\r\n\r\n',
}

def raw(addr, family, data, timeout=1.5):
    c = socket.socket(family, socket.SOCK_STREAM)
    c.settimeout(timeout)
    c.connect(addr)
    c.sendall(data)
    buf = b''
    t0 = time.time()
    while True:
        try:
            d = c.recv(65536)
        except socket.timeout:
            break
        if not d:
            break
        buf += d
        # stop once a full response with Content-Length arrived
        if b'\r\n\r\n' in buf:
            head, _, body = buf.partition(b'\r\n\r\n')
            for line in head.split(b'\r\n'):
                if line.lower().startswith(b'content-length:'):
                    if len(body) >= int(line.split(b':')[1]) and not data.count(b'POST ') > 1:
                        c.close(); return buf
    c.close()
    return buf

try:
    for _ in range(100):
        if os.path.exists(sock):
            break
        time.sleep(0.1)
    time.sleep(0.5)
    os.makedirs(OUT, exist_ok=True)
    for name, data in list(reqs.items()):
        open(os.path.join(OUT, name + '.req'), 'wb').write(data)
        open(os.path.join(OUT, name + '.resp'), 'wb').write(raw(sock, socket.AF_UNIX, data))
    # methodSignature of every method
    import xmlrpc.client
    for name, data in inet_reqs.items():
        open(os.path.join(OUT, 'inet_' + name + '.req'), 'wb').write(data)
        open(os.path.join(OUT, 'inet_' + name + '.resp'), 'wb').write(raw(('127.0.0.1', port), socket.AF_INET, data))
    from supervisor.xmlrpc import SupervisorTransport
    t = SupervisorTransport(None, None, 'unix://' + sock)
    proxy = xmlrpc.client.ServerProxy('http://127.0.0.1', transport=t)
    sigs = {}
    sigs_methods = proxy.system.listMethods()
    for m in sigs_methods:
        sigs[m] = proxy.system.methodSignature(m)
    import json
    open(os.path.join(OUT, 'signatures.json'), 'w').write(json.dumps(sigs, indent=1, sort_keys=True) + '\n')
    ci = proxy.supervisor.getAllConfigInfo()
    open(os.path.join(OUT, 'configinfo.json'), 'w').write(json.dumps(ci, indent=1) + '\n')
    data = post(call_xml('supervisor.getAllConfigInfo'))
    open(os.path.join(OUT, 'getAllConfigInfo.req'), 'wb').write(data)
    open(os.path.join(OUT, 'getAllConfigInfo.resp'), 'wb').write(raw(sock, socket.AF_UNIX, data))
    data = post(call_xml('supervisor.getProcessInfo', sparam('sleeper')))
    open(os.path.join(OUT, 'getProcessInfo.req'), 'wb').write(data)
    open(os.path.join(OUT, 'getProcessInfo.resp'), 'wb').write(raw(sock, socket.AF_UNIX, data))
    # argument matrix: every method with odd argument shapes
    matrix = []
    shapes = [[], ['nosuch'], [5], [True], [[]], ['nosuch', 'x'], ['nosuch', 5, 5],
              [{}], ['a', 'b', 'c', 'd'], [1.5], ['nosuch', '5', '2'], ['sleeper', 'x', 0]]
    mutating = {'supervisor.shutdown', 'supervisor.restart', 'supervisor.clearLog',
                'supervisor.startAllProcesses', 'supervisor.clearAllProcessLogs'}
    for m in sorted(sigs_methods):
        for i, args in enumerate(shapes):
            if m in mutating and len(args) <= 1:
                continue
            body = xmlrpc.client.dumps(tuple(args), methodname=m)
            resp = raw(sock, socket.AF_UNIX, post(body))
            head, _, rbody = resp.partition(b'\r\n\r\n')
            status = int(head.split(b' ')[1])
            matrix.append({'method': m, 'request': body, 'status': status,
                           'body': rbody.decode('utf-8') if status == 200 else ''})
    extra = [
      ('supervisor.readLog', ['2', '3']), ('supervisor.readLog', [1.5, 0]), ('supervisor.readLog', [True, False]),
      ('supervisor.readLog', ['x', 0]), ('supervisor.readLog', [0, 'x']), ('supervisor.readLog', [[], 0]),
      ('supervisor.readLog', [' 7 ', 0]), ('supervisor.readLog', ['1_0', 0]), ('supervisor.readLog', [-1.5, 0]),
      ('supervisor.readProcessStderrLog', ['sleeper', 0, 0]), ('supervisor.readProcessStderrLog', ['sleeper', -4, 0]),
      ('supervisor.readProcessStderrLog', ['sleeper', -400, 0]), ('supervisor.readProcessStderrLog', ['sleeper', 100000000, 0]),
      ('supervisor.readProcessStderrLog', ['sleeper', 2, 3]), ('supervisor.readProcessStderrLog', ['sleeper', 0, -5]),
      ('supervisor.readProcessStderrLog', ['sleeper', -100, 5]), ('supervisor.readProcessStderrLog', ['sleeper', 'a', 'b']),
      ('supervisor.readProcessStderrLog', ['sleeper:*', 0, 0]), ('supervisor.readProcessStderrLog', ['sleeper:sleeper', 0, 0]),
      ('supervisor.tailProcessStderrLog', ['sleeper', 0, 3]), ('supervisor.tailProcessStderrLog', ['sleeper', 2, 3]),
      ('supervisor.tailProcessStderrLog', ['sleeper', 100, 3]), ('supervisor.tailProcessStderrLog', ['sleeper', 5, 100]),
      ('supervisor.tailProcessStderrLog', ['sleeper', -5, 3]), ('supervisor.tailProcessStderrLog', ['sleeper', 0, 0]),
      ('supervisor.tailProcessStderrLog', ['sleeper', -5, -3]), ('supervisor.tailProcessStderrLog', ['sleeper', 'x', 3]),
      ('supervisor.tailProcessStderrLog', ['sleeper', '3', 3.7]), ('supervisor.tailProcessStdoutLog', ['nolog', 0, 3]),
      ('supervisor.tailProcessLog', ['nolog', 'x', 'y']),
      ('supervisor.startProcessGroup', ['nosuch', 'yes']), ('supervisor.stopProcessGroup', ['nolog', 0]),
      ('supervisor.stopProcess', ['nolog', 'no']), ('supervisor.stopProcess', ['nolog:*']),
      ('supervisor.signalProcess', ['nolog', 9]), ('supervisor.signalProcess', ['nolog', 'kill']),
      ('supervisor.signalProcess', ['nolog', 999]), ('supervisor.signalProcess', ['nolog', '-1']),
      ('supervisor.signalProcess', ['nolog:*', 'HUP']), ('supervisor.signalProcess', ['nosuch:*', 'HUP']),
      ('supervisor.signalProcessGroup', ['nolog', 'NOPE']), ('supervisor.signalAllProcesses', ['NOPE']),
      ('supervisor.sendProcessStdin', ['nolog', '']), ('supervisor.sendProcessStdin', ['nosuch', 'x']),
      ('supervisor.sendProcessStdin', [5, 'x']), ('supervisor.sendProcessStdin', ['nolog', 1.5]),
      ('supervisor.sendRemoteCommEvent', [5, [1]]), ('supervisor.clearProcessLogs', ['sleeper:*']),
      ('supervisor.clearProcessLogs', ['nosuch']), ('supervisor.removeProcessGroup', [5]),
      ('supervisor.getProcessInfo', ['nolog']), ('supervisor.getProcessInfo', ['sleeper:sleeper']),
      ('supervisor.getProcessInfo', ['sleeper:']), ('supervisor.getProcessInfo', [':sleeper']), ('supervisor.getProcessInfo', ['']),
      ('system.methodHelp', [5]), ('system.methodHelp', ['system.methodHelp']), ('system.methodSignature', [[]]),
      ('system.methodSignature', ['system.multicall']),
      ('system.multicall', [[]]), ('system.multicall', [[1]]), ('system.multicall', [[[]]]), ('system.multicall', [[None]]),
      ('system.multicall', [[{'methodName': 5}]]), ('system.multicall', [[{'methodName': ''}]]),
      ('system.multicall', [[{'methodName': 'supervisor.getAPIVersion', 'params': 'ab'}]]),
      ('system.multicall', [[{'methodName': 'supervisor.getAPIVersion', 'params': {}}]]),
      ('system.multicall', [[{'methodName': 'supervisor.getAPIVersion', 'params': 5}]]),
      ('system.multicall', [[{'methodName': 'supervisor.getProcessInfo', 'params': {'nolog': 1}}]]),
      ('system.multicall', [[{'methodName': 'supervisor.readLog', 'params': ['x', 0]}]]),
      ('system.multicall', [[{'methodName': 'supervisor.getProcessInfo', 'params': [True]}]]),
      ('system.multicall', [[{'methodName': 'supervisor.stopProcess', 'params': ['nolog']}, {'methodName': 'system.listMethods'}]]),
      ('system.multicall', [[{'methodName': 'system.multicall', 'params': [[]]}]]),
      ('system.multicall', [{}]), ('system.multicall', [5]), ('system.multicall', ['']),
    ]
    for m, args in extra:
        body = xmlrpc.client.dumps(tuple(args), methodname=m, allow_none=True)
        resp = raw(sock, socket.AF_UNIX, post(body))
        head, _, rbody = resp.partition(b'\r\n\r\n')
        status = int(head.split(b' ')[1])
        matrix.append({'method': m, 'request': body, 'status': status,
                       'body': rbody.decode('utf-8') if status == 200 else ''})
    open(os.path.join(OUT, 'matrix.json'), 'w').write(json.dumps(matrix, indent=0) + '\n')
    # phase 2, in order: a real running process, group results
    phase2 = [
      ('p2_1_start_wait', post(call_xml('supervisor.startProcess', sparam('sleeper') + '<param><value><boolean>1</boolean></value></param>\n'))),
      ('p2_2_start_again', post(call_xml('supervisor.startProcess', sparam('sleeper')))),
      ('p2_3_signal_group', post(call_xml('supervisor.signalProcessGroup', sparam('sleeper') + sparam('CONT')))),
      ('p2_4_signal_spec_bad', post(call_xml('supervisor.signalProcess', sparam('sleeper:*') + sparam('NOPE')))),
      ('p2_5_remove_running', post(call_xml('supervisor.removeProcessGroup', sparam('sleeper')))),
      ('p2_6_stop_spec', post(call_xml('supervisor.stopProcess', sparam('sleeper:*')))),
    ]
    for name, data in phase2:
        open(os.path.join(OUT, name + '.req'), 'wb').write(data)
        open(os.path.join(OUT, name + '.resp'), 'wb').write(raw(sock, socket.AF_UNIX, data, timeout=15))
    open(os.path.join(OUT, 'tmpdir.txt'), 'w').write(tmp + '\n')
finally:
    os.kill(p.pid, signal.SIGTERM)
    p.wait()
    import shutil
    shutil.rmtree(tmp, ignore_errors=True)
