#!/bin/sh
# deb postinst ("configure" [old-version]) and rpm %post (1 = install,
# 2 = upgrade). A first install leaves the service stopped: the gateway config
# needs the endpoints and secrets in the env file first. An upgrade restarts
# a running service so that it runs the new binary.
set -e
case "$1" in
  configure|1|2) ;;
  *) exit 0 ;;
esac

install -d -o otelcol-intune -g otelcol-intune -m 0750 /var/lib/otelcol-intune

upgrade=no
if [ "$1" = 2 ] || { [ "$1" = configure ] && [ -n "$2" ]; }; then
  upgrade=yes
fi

if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || true
  if [ "$upgrade" = yes ]; then
    systemctl try-restart otelcol-intune.service >/dev/null 2>&1 || true
  fi
fi

if [ "$upgrade" = no ]; then
  cat <<'MSG'
otelcol-intune is installed and not started.
  1. Set the endpoints and secrets in /etc/otelcol-intune/otelcol-intune.env
     (the config, /etc/otelcol-intune/config.yaml, is the gateway config).
  2. Check them:  sh -c 'set -a; . /etc/otelcol-intune/otelcol-intune.env; otelcol-intune validate --config /etc/otelcol-intune/config.yaml'
  3. Start it:    systemctl enable --now otelcol-intune
MSG
fi
exit 0
