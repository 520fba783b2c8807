#!/bin/sh
# gosupervisor post-install (deb: "configure"; rpm: 1 = install, 2 = upgrade).
set -e
mkdir -p /var/log/supervisor
chmod 0755 /var/log/supervisor
case "$1" in
configure|1|2)
	# Inside a dpkg --root install or a chroot there is no running systemd.
	if [ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ]; then
		systemctl --system daemon-reload >/dev/null 2>&1 || true
		if command -v deb-systemd-helper >/dev/null 2>&1; then
			deb-systemd-helper unmask supervisor.service >/dev/null 2>&1 || true
			if deb-systemd-helper --quiet was-enabled supervisor.service; then
				deb-systemd-helper enable supervisor.service >/dev/null 2>&1 || true
			else
				deb-systemd-helper update-state supervisor.service >/dev/null 2>&1 || true
			fi
		else
			systemctl enable supervisor.service >/dev/null 2>&1 || true
		fi
		# A first install starts the service; an upgrade (or a switch from
		# Debian's supervisor, whose prerm stopped it) restarts it.
		if command -v deb-systemd-invoke >/dev/null 2>&1; then
			deb-systemd-invoke restart supervisor.service >/dev/null 2>&1 || true
		else
			systemctl restart supervisor.service >/dev/null 2>&1 || true
		fi
	fi
	;;
esac
exit 0
