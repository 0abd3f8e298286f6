#!/bin/sh
# The compose stack's secrets, one file each, for compose's one-shot `stack-secrets`
# service (the app's image, as root). Each secret lives in a volume of its own that
# only the services needing it mount (compose.yaml):
#   django/django-secret-key   web, migrate
#   db/postgres-password       db (POSTGRES_PASSWORD_FILE), web, migrate
#   vault/vault-root-token     vault (the dev server's root token), vault-init
#
# A secret given to compose as /run/secrets/NAME (compose.production.yaml) is copied
# in, every run, so a changed value wins. One not given is generated on the first
# run and kept with its volume, so a second `up` finds the same one and a plain
# `docker compose up` needs no configuration; `down -v` forgets them. With
# REQUIRE_GIVEN=1 (compose.production.yaml), a secret not given is an error.
#
# Postgres reads its password only when it creates the database: after changing a
# given POSTGRES_PASSWORD, change it in the database too (ALTER ROLE) or `down -v`.
set -eu

dir=${SECRETS_DIR:?stack-secrets: SECRETS_DIR is required}
given_dir=${GIVEN_DIR:-/run/secrets}
umask 077

fail() {
    echo "stack-secrets: $*" >&2
    exit 1
}

# secret SUBDIR NAME VARIABLE
secret() {
    target=$dir/$1/$2
    given=$given_dir/$2
    [ -d "$dir/$1" ] || fail "$dir/$1 is not mounted"
    if [ -s "$given" ]; then
        cp "$given" "$target.new"
        echo "stack-secrets: $2 as given ($3)"
    elif [ "${REQUIRE_GIVEN:-0}" = 1 ]; then
        fail "$3 is required (compose.production.yaml): set it in .env or the environment"
    elif [ -s "$target" ]; then
        echo "stack-secrets: $2 kept from an earlier run"
        return
    else
        python3 -c 'import secrets; print(secrets.token_urlsafe(32), end="")' >"$target.new"
        echo "stack-secrets: $2 generated (throwaway, for this stack only)"
    fi
    mv "$target.new" "$target"
    # Readable by every UID that mounts the volume (postgres, openbao and the app each
    # run as their own); the volume itself is the boundary.
    chmod 0444 "$target"
}

secret django django-secret-key DJANGO_SECRET_KEY
secret db postgres-password POSTGRES_PASSWORD
secret vault vault-root-token VAULT_DEV_ROOT_TOKEN
