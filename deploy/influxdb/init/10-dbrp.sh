#!/bin/bash
# PlantPulse — InfluxDB 2.7 first-start step (docker-compose.yml mounts this directory at
# /docker-entrypoint-initdb.d). The influxdb image runs it once, right after
# DOCKER_INFLUXDB_INIT_MODE=setup has created the org, the bucket and the admin token, with the
# influx CLI already logged in with that token.
#
# It maps the InfluxQL database "<bucket>" with retention policy "autogen" to the bucket (a DBRP
# mapping, marked default), so InfluxQL on the v1-compatible endpoint (`/query?db=<bucket>`,
# Authorization: Token ...) reads what PlantPulse writes through the 2.x API. Both the platform's
# own history queries (PP_INFLUX_API=v2 queries `db=PP_INFLUX_BUCKET`) and Grafana's provisioned
# InfluxQL data source (dashboards/grafana) rely on it.
#
# To add the mapping to an InfluxDB that was set up without it:
#   docker compose exec influxdb bash /docker-entrypoint-initdb.d/10-dbrp.sh
set -euo pipefail

db="${DOCKER_INFLUXDB_INIT_BUCKET:?}"
org="${DOCKER_INFLUXDB_INIT_ORG:?}"
bucket_id="${DOCKER_INFLUXDB_INIT_BUCKET_ID:-}"
if [ -z "${bucket_id}" ]; then
  bucket_id="$(influx bucket list --org "${org}" --name "${db}" --hide-headers | cut -f 1)"
fi
[ -n "${bucket_id}" ] || { echo "10-dbrp: bucket ${db} not found in org ${org}" >&2; exit 1; }

if influx v1 dbrp list --org "${org}" --db "${db}" --hide-headers 2>/dev/null | grep -q "${bucket_id}"; then
  echo "10-dbrp: ${db}/autogen is already mapped to bucket ${db} (${bucket_id})"
  exit 0
fi
influx v1 dbrp create --org "${org}" --db "${db}" --rp autogen --bucket-id "${bucket_id}" --default
echo "10-dbrp: InfluxQL database ${db} (retention policy autogen) now reads bucket ${db} (${bucket_id})"
