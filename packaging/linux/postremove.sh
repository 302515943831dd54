#!/bin/sh
# deb postrm ("remove" / "purge" / "upgrade" ...) and rpm %postun (0 = erase,
# 1 = upgrade). A purge (deb only; dpkg itself deletes the conffiles) also
# deletes the state: checkpoints, persistent queues and dead letters. The
# otelcol-intune user stays, as Debian policy advises, so that no file left
# elsewhere ends up with an unknown owner.
set -e
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || true
fi
if [ "$1" = purge ]; then
  rm -rf /var/lib/otelcol-intune
fi
exit 0
