#!/bin/sh
# The container's main program, for the example: it works for
# APP_SECONDS seconds (default 3), then exits with APP_EXIT (default 0).
echo "app: working for ${APP_SECONDS:-3} s"
sleep "${APP_SECONDS:-3}"
echo "app: done, exit status ${APP_EXIT:-0}"
exit "${APP_EXIT:-0}"
