#!/bin/bash
# The official postgres image's entrypoint, as far as its documentation goes:
#   POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE), POSTGRES_USER (default postgres),
#   POSTGRES_DB (default: the user's name), POSTGRES_HOST_AUTH_METHOD, POSTGRES_INITDB_ARGS,
#   PGDATA; /docker-entrypoint-initdb.d/*.sh and *.sql on a fresh data directory.
# Started as root it fixes the ownership of PGDATA and re-runs itself as postgres; a
# fresh cluster is initialised by a temporary server listening on the unix socket
# only, then the real server listens on TCP 5432 on all addresses.
set -o errexit -o nounset -o pipefail

file_env() {
    # VAR or VAR_FILE, never both (as the official image).
    local var=$1 file_var="${1}_FILE" default=${2:-}
    if [[ -n ${!var:-} && -n ${!file_var:-} ]]; then
        echo "error: both $var and $file_var are set (but are exclusive)" >&2
        exit 1
    fi
    local value=$default
    if [[ -n ${!var:-} ]]; then
        value=${!var}
    elif [[ -n ${!file_var:-} ]]; then
        value=$(<"${!file_var}")
    fi
    export "$var"="$value"
    unset "$file_var"
}

if [[ ${1:0:1} == - ]]; then
    set -- postgres "$@"
fi

if [[ $1 != postgres ]]; then
    exec "$@"
fi

if [[ $(id -u) == 0 ]]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown -R postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    chmod 3777 /var/run/postgresql
    exec su-exec postgres "${BASH_SOURCE[0]}" "$@"
fi

if [[ ! -s $PGDATA/PG_VERSION ]]; then
    file_env POSTGRES_PASSWORD
    file_env POSTGRES_USER postgres
    file_env POSTGRES_DB "$POSTGRES_USER"
    file_env POSTGRES_INITDB_ARGS
    auth=${POSTGRES_HOST_AUTH_METHOD:-}
    if [[ -z $POSTGRES_PASSWORD && $auth != trust ]]; then
        cat >&2 <<'MSG'
Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".
       Or POSTGRES_HOST_AUTH_METHOD=trust to allow all connections without a password.
MSG
        exit 1
    fi
    auth=${auth:-scram-sha-256}

    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of flags
    initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust \
        --auth-host="$auth" $POSTGRES_INITDB_ARGS
    rm -f "$pwfile"
    echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
    printf 'host all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"

    # The temporary server: unix socket only, so nothing over TCP sees a half-made
    # database (a TCP readiness check waits for the real one).
    pg_ctl --silent --wait --options "-c listen_addresses='' -p 5432" start
    psql=(psql --no-psqlrc --set ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --dbname postgres)
    if [[ $POSTGRES_DB != postgres ]]; then
        "${psql[@]}" --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
    fi
    for f in /docker-entrypoint-initdb.d/*; do
        case $f in
        *.sh) echo "running $f"; . "$f" ;;
        *.sql) echo "running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
        *) [[ -e $f ]] && echo "ignoring $f" ;;
        esac
    done
    pg_ctl --silent --wait --mode fast stop
    echo "PostgreSQL init process complete; ready for start up."
fi

exec "$@"
