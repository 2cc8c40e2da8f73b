#!/bin/sh
# One-shot (deploy/nats/compose.yml): a private CA and a certificate for the NATS nodes in the
# nats-tls volume, made once and kept. Workers trust ca.crt (PP_NATS_TLS_CA_FILE); copy it to
# gateways for mqtts:// (docs/scale-out.md, "TLS").
set -eu
dir=/etc/nats/tls
if [ -s "$dir/server.crt" ] && [ -s "$dir/server.key" ] && [ -s "$dir/ca.crt" ]; then
  echo "NATS TLS certificate present in $dir"
  exit 0
fi
command -v openssl >/dev/null || apk add --no-cache openssl >/dev/null
cd "$dir"
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj '/CN=PlantPulse NATS CA' -keyout ca.key -out ca.crt
openssl req -newkey rsa:2048 -nodes -subj '/CN=nats' -keyout server.key -out server.csr
printf 'subjectAltName=DNS:nats-1,DNS:nats-2,DNS:nats-3,DNS:localhost,IP:127.0.0.1%s\n' "${NATS_TLS_EXTRA_SAN:+,$NATS_TLS_EXTRA_SAN}" > server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 -extfile server.ext -out server.crt
rm -f server.csr server.ext
chmod 644 ca.crt server.crt server.key
echo "NATS TLS certificate made in $dir"
