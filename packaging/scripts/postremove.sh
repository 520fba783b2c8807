#!/bin/sh
# gosupervisor post-remove. The configuration in /etc/supervisor (a conffile
# and the user's conf.d) and the logs stay on "remove"; "purge" takes the
# package's own conffile and the unit's enablement, never conf.d's files.
set -e
case "$1" in
remove|0)
	if [ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ]; then
		systemctl --system daemon-reload >/dev/null 2>&1 || true
	fi
	;;
purge)
	if command -v deb-systemd-helper >/dev/null 2>&1; then
		deb-systemd-helper purge supervisor.service >/dev/null 2>&1 || true
	fi
	;;
esac
exit 0
