#!/bin/sh
# The official OpenBao image's entrypoint, as far as its documentation goes:
#   `server ...` runs `bao server -config=/openbao/config` with BAO_DEV_ROOT_TOKEN_ID
#   and BAO_DEV_LISTEN_ADDRESS (default 0.0.0.0:8200); BAO_LOCAL_CONFIG is written to
#   the config directory; other bao subcommands and flags run `bao`; anything else
#   runs as given. `bao` itself runs as the openbao user.
set -eu

config_dir=/openbao/config

case "${1:-}" in
-*) set -- bao "$@" ;;
esac

if [ "${1:-}" = server ]; then
    shift
    if [ -n "${BAO_LOCAL_CONFIG:-}" ]; then
        printf '%s\n' "$BAO_LOCAL_CONFIG" >"$config_dir/local.json"
    fi
    set -- bao server \
        -config="$config_dir" \
        -dev-root-token-id="${BAO_DEV_ROOT_TOKEN_ID:-}" \
        -dev-listen-address="${BAO_DEV_LISTEN_ADDRESS:-0.0.0.0:8200}" \
        "$@"
elif [ "${1:-}" = version ] || { [ -n "${1:-}" ] && bao --help "$1" 2>&1 | grep -q "bao $1"; }; then
    set -- bao "$@"
fi

if [ "${1:-}" = bao ] && [ "$(id -u)" = 0 ]; then
    chown -R openbao:openbao "$config_dir" 2>/dev/null || true
    set -- su-exec openbao "$@"
fi

exec "$@"
