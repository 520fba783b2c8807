"""Run Python's supervisorctl many times without paying for interpreter
start-up and imports each time.

Started as `python3 -u pyctl_zygote.py`, it imports supervisor.supervisorctl
once, then for every JSON request line on stdin forks a child that is, from
then on, exactly `/usr/bin/supervisorctl ARGS...`: its own session, its own
stdin/stdout/stderr files, sys.argv[0] = /usr/bin/supervisorctl, and
supervisorctl.main() run with Python's normal exit handling. The parent
answers {"pid": N} at once (so the test can send SIGINT) and
{"exit": status} when the child is gone. A negative status is a signal.
"""
import json
import os
import sys
import traceback

import supervisor.supervisorctl  # noqa: F401 (the point is to preload it)


def child(req):
    os.setsid()
    os.chdir(req["cwd"])
    for fd, path, mode in ((0, req["stdin"], os.O_RDONLY),
                           (1, req["stdout"], os.O_WRONLY),
                           (2, req["stderr"], os.O_WRONLY)):
        f = os.open(path, mode)
        os.dup2(f, fd)
        os.close(f)
    sys.argv = ["/usr/bin/supervisorctl"] + req["args"]
    code = 0
    try:
        supervisor.supervisorctl.main()
    except SystemExit as e:
        if e.code is None:
            code = 0
        elif isinstance(e.code, int):
            code = e.code
        else:
            sys.stderr.write("%s\n" % e.code)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def main():
    for line in sys.stdin:
        req = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            child(req)
        sys.stdout.write(json.dumps({"pid": pid}) + "\n")
        sys.stdout.flush()
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            code = -os.WTERMSIG(status)
        else:
            code = os.WEXITSTATUS(status)
        sys.stdout.write(json.dumps({"exit": code}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
