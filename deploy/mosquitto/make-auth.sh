#!/bin/sh
# PlantPulse — the `mosquitto-auth` step of docker-compose.yml (runs in the eclipse-mosquitto
# image, as root, before the broker and everything else starts):
#
#   1. refuses to go on while a secret passed to it (every *_PASSWORD and *_TOKEN variable) is
#      empty, shorter than 12 characters, or still the `change-me...` value from .env.example;
#   2. writes the broker's password file (mosquitto_passwd: salted hashes, never the passwords)
#      for MQTT_PLATFORM_USER and MQTT_GATEWAY_USER, keeping any user added to it by hand;
#   3. installs the ACL; both files owned by the broker's user, mode 0600.
#
# Runs on every `docker compose up`, so a password changed in .env takes effect on the next
# `docker compose up -d` (which also recreates the clients that use it).
#
#   sh make-auth.sh --check    step 1 only (test/unit/deploy/compose.test.ts runs this)
set -eu

fail() {
  echo "mosquitto-auth: $*" >&2
  exit 1
}

bad=0
for name in $(env | sed -n 's/^\([A-Za-z0-9_]*_PASSWORD\)=.*/\1/p; s/^\([A-Za-z0-9_]*_TOKEN\)=.*/\1/p' | sort); do
  eval "value=\${$name}"
  if [ -z "$value" ]; then
    echo "mosquitto-auth: $name is empty: set it in .env (docs/operations.md)" >&2
    bad=1
  elif [ "${value#change-me}" != "$value" ]; then
    echo "mosquitto-auth: $name still has its example value from .env.example: replace it, e.g. with the output of: openssl rand -hex 24" >&2
    bad=1
  elif [ "${#value}" -lt 12 ]; then
    echo "mosquitto-auth: $name is shorter than 12 characters" >&2
    bad=1
  fi
done
[ "$bad" = 0 ] || fail "not starting: fix the secrets above in .env, then run docker compose up -d again"

if [ "${1:-}" = "--check" ]; then
  echo "mosquitto-auth: secrets are set"
  exit 0
fi

: "${MQTT_PLATFORM_USER:?}" "${MQTT_PLATFORM_PASSWORD:?}" "${MQTT_GATEWAY_USER:?}" "${MQTT_GATEWAY_PASSWORD:?}"
dir=${MOSQUITTO_AUTH_DIR:-/mosquitto/auth}
acl=${MOSQUITTO_ACL_SOURCE:-/setup/acl}
mkdir -p "$dir"
rm -f "$dir/passwd.new" "$dir/acl.new"
if [ -s "$dir/passwd" ]; then
  cp "$dir/passwd" "$dir/passwd.new"
  mosquitto_passwd -b "$dir/passwd.new" "$MQTT_PLATFORM_USER" "$MQTT_PLATFORM_PASSWORD"
else
  mosquitto_passwd -c -b "$dir/passwd.new" "$MQTT_PLATFORM_USER" "$MQTT_PLATFORM_PASSWORD"
fi
mosquitto_passwd -b "$dir/passwd.new" "$MQTT_GATEWAY_USER" "$MQTT_GATEWAY_PASSWORD"
cp "$acl" "$dir/acl.new"
chown mosquitto:mosquitto "$dir" "$dir/passwd.new" "$dir/acl.new"
chmod 0700 "$dir"
chmod 0600 "$dir/passwd.new" "$dir/acl.new"
mv "$dir/passwd.new" "$dir/passwd"
mv "$dir/acl.new" "$dir/acl"
echo "mosquitto-auth: password file and ACL written (users: $(cut -d: -f1 "$dir/passwd" | tr '\n' ' '))"
