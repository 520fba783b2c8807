# Regenerates mainlog_golden.txt: Python supervisor's main log lines (the
# format make_logger installs) for every level, at a fixed time, in UTC:
# go test ./logrot -run MainLogGolden -update
import io, os, time
os.environ["TZ"] = "UTC"
time.tzset()
time.time = lambda: 1795637655.987654
from supervisor import loggers

out = io.StringIO()
logger = loggers.getLogger(loggers.LevelsByName.BLAT)
loggers.handle_stdout(logger, '%(asctime)s %(levelname)s %(message)s\n')
logger.handlers[0].stream = out
for name in ["critical", "error", "warn", "info", "debug", "trace", "blather"]:
    getattr(logger, name)("%s message" % name)
logger.info("multi\nline caf\u00e9 100%")
logger.debug("%r %s output:\n%s" % ("prog", "stdout", "hello"))
print(out.getvalue(), end="")
