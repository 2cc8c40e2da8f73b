#!/usr/bin/env bash
# Installs Debian packages by name with apt-get, as root or through sudo, showing apt-get's
# progress; then stops the services those packages start at install time, because PlantPulse
# and its tests run their own processes on their own ports and data directories.
# One installer for both callers: `npm test` (scripts/ensure-test-services.sh) and `npm start`
# when no InfluxDB is configured and none is installed (src/app/influx-install.ts).
set -euo pipefail
if [ $# -eq 0 ]; then
  echo "usage: $0 PACKAGE..." >&2
  exit 2
fi
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  echo "need root (or sudo) to install $*; as root, run: apt-get install -y $*" >&2
  exit 1
fi
command -v apt-get >/dev/null 2>&1 || { echo "no apt-get here: install $* with this system's package manager" >&2; exit 1; }
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
for pkg in "$@"; do
  # Debian's service of the same name, if the package has one (mosquitto, influxdb, victoria-metrics).
  "${SUDO[@]}" service "$pkg" stop >/dev/null 2>&1 || true
done
