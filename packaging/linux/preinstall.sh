#!/bin/sh
# Runs before the files are unpacked (deb preinst, rpm %pre): the service
# user must exist so that the config and env files can belong to its group.
set -e
if ! getent group otelcol-intune >/dev/null; then
  groupadd --system otelcol-intune
fi
if ! getent passwd otelcol-intune >/dev/null; then
  nologin=$(command -v nologin || echo /usr/sbin/nologin)
  useradd --system --gid otelcol-intune --home-dir /var/lib/otelcol-intune \
    --no-create-home --shell "$nologin" \
    --comment "OpenTelemetry Collector for Intune Certificate Connector events" otelcol-intune
fi
exit 0
