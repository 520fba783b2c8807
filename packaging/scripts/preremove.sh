#!/bin/sh
# gosupervisor pre-remove (deb: "remove"; rpm: 0 = erase). Stops the service
# before its binaries go; an upgrade leaves it to postinstall's restart.
set -e
case "$1" in
remove|0)
	if [ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ]; then
		if command -v deb-systemd-invoke >/dev/null 2>&1; then
			deb-systemd-invoke stop supervisor.service >/dev/null 2>&1 || true
		else
			systemctl stop supervisor.service >/dev/null 2>&1 || true
		fi
	fi
	;;
esac
exit 0
