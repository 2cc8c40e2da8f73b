#!/usr/bin/env bash
# Installs what the test suite needs when it is missing: the real Mosquitto, InfluxDB 1.x,
# VictoriaMetrics (the InfluxDB 2.x write API), nats-server (JetStream scale-out), Chromium, the openssl CLI and a Chinese font
# (fonts-noto-cjk, for the dashboard's Chinese screen), from Debian's packages.
# The tests start their own processes on free ports; nothing here starts a service.
set -euo pipefail
need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v influxd >/dev/null 2>&1 || need+=(influxdb)
command -v victoria-metrics >/dev/null 2>&1 || need+=(victoria-metrics)
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || need+=(nats-server)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# The broker TLS test makes its certificates with the openssl CLI (docs/security.md).
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# The dashboard's Chinese screen is checked in Chromium: without a CJK font it would be boxes.
{ command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh family)" ]; } || need+=(fonts-noto-cjk)
if [ ${#need[@]} -eq 0 ]; then
  echo "test services: mosquitto, influxd, victoria-metrics, nats-server, chromium, openssl and a CJK font are installed"
  exit 0
fi
echo "test services: installing ${need[*]} (Debian packages)"
bash "$(dirname "$0")/install-debian-packages.sh" "${need[@]}"
