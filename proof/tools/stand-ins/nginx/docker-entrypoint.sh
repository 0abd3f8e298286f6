#!/bin/sh
# The official nginx image's entrypoint, as far as its documentation goes: when the
# command is nginx, run /docker-entrypoint.d/*.sh, and render
# /etc/nginx/templates/*.template with envsubst into /etc/nginx/conf.d (only the
# variables that are set, as its 20-envsubst-on-templates.sh does).
set -eu

case "${1:-}" in
nginx | nginx-debug)
    for script in /docker-entrypoint.d/*.sh; do
        [ -x "$script" ] && "$script"
    done
    templates=${NGINX_ENVSUBST_TEMPLATE_DIR:-/etc/nginx/templates}
    suffix=${NGINX_ENVSUBST_TEMPLATE_SUFFIX:-.template}
    output=${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}
    if [ -d "$templates" ]; then
        defined=$(printf '${%s} ' $(env | cut -d= -f1))
        find "$templates" -follow -type f -name "*$suffix" | while read -r template; do
            relative=${template#"$templates/"}
            target="$output/${relative%"$suffix"}"
            mkdir -p "$(dirname "$target")"
            envsubst "$defined" <"$template" >"$target"
        done
    fi
    ;;
esac

exec "$@"
