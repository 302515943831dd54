#!/bin/sh
# deb prerm ("remove" / "upgrade") and rpm %preun (0 = erase, 1 = upgrade):
# stop and disable the service only when the package goes away.
set -e
case "$1" in
  remove|0) ;;
  *) exit 0 ;;
esac
if [ -d /run/systemd/system ]; then
  systemctl disable --now otelcol-intune.service >/dev/null 2>&1 || true
fi
exit 0
