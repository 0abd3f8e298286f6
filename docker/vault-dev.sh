#!/bin/sh
# Start OpenBao's dev server for compose with its root token read from a compose
# secret. The token goes to the server in its environment (BAO_DEV_ROOT_TOKEN_ID):
# not on its command line, where the image's entrypoint would put it and `ps` in
# the container shows it, nor in the container's configuration (`docker inspect`).
set -eu

token_file=${BAO_DEV_ROOT_TOKEN_FILE:-/run/secrets/vault-root-token}
[ -s "$token_file" ] || { echo "vault-dev: no root token in $token_file" >&2; exit 1; }
BAO_DEV_ROOT_TOKEN_ID=$(cat "$token_file")
export BAO_DEV_ROOT_TOKEN_ID

# Dev mode keeps everything in memory and needs no mlock; drop root as the image does.
# -dev-no-store-token: the root token is not also written to a token helper file in
# the user's home (which need not be writable, and is one more copy of it).
if [ "$(id -u)" = 0 ] && command -v su-exec >/dev/null; then
    exec su-exec openbao bao server -dev -dev-no-store-token
fi
exec bao server -dev -dev-no-store-token
