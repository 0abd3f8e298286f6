"""weatherproject/environment.py declares every variable the project reads, and only those.

Read means: an ``env_*`` call in settings.py, ``os.environ`` in the Python the image or
``make run`` runs, a ``$NAME`` a script in docker/ does not set itself, a ``${NAME}`` or
secret ``environment:`` Compose fills in, the environment Compose gives the app's image,
and the ConfigMap and ``env:`` names in deploy/. ``.env.example`` lists each declared
variable (but those compose.yaml sets for its own scripts) with its declared default.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml
from django.core.exceptions import ImproperlyConfigured

from weatherproject import settings as project_settings
from weatherproject.environment import BY_NAME, VARIABLES, Variable

ROOT = Path(__file__).resolve().parents[2]
ENV_HELPERS = {"env_str", "env_bool", "env_number", "env_secret", "env_list"}
# Python whose os.environ reads count: the settings, what the image runs besides them,
# and make run's stack.
PYTHON_READERS = (
    "weatherproject/settings.py",
    "weatherproject/gunicorn_config.py",
    "weatherproject/wsgi.py",
    "manage.py",
    "docker/healthcheck.py",
    "scripts/devstack.py",
)
NAME = r"[A-Z][A-Z0-9_]*"


def settings_reads(source: str) -> set[str]:
    """The variables ``source`` reads through the env_* helpers (env_secret: also _FILE)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        if node.func.id not in ENV_HELPERS or not node.args:
            continue
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            names.add(first.value)
            if node.func.id == "env_secret":
                names.add(f"{first.value}_FILE")
    return names


def _is_environ(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def python_reads(source: str) -> set[str]:
    """The variables ``source`` reads from os.environ (get, [], pop, setdefault) or
    os.getenv, named by a literal or by a module-level string constant."""
    tree = ast.parse(source)
    constants = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }

    def name_of(arg: ast.expr) -> str | None:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return arg.value
        if isinstance(arg, ast.Name):
            return constants.get(arg.id)
        return None

    names: set[str] = set()
    for node in ast.walk(tree):
        arg: ast.expr | None = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            method = node.func
            environ = method.attr in {"get", "pop", "setdefault"} and _is_environ(method.value)
            if environ or method.attr == "getenv":
                arg = node.args[0]
        elif isinstance(node, ast.Subscript) and _is_environ(node.value):
            arg = node.slice
        if arg is not None and (name := name_of(arg)) and re.fullmatch(NAME, name):
            names.add(name)
    return names


def shell_reads(script: str) -> set[str]:
    """The variables a shell script reads and does not set itself (comments ignored)."""
    code = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("#"))
    used = set(re.findall(rf"\$\{{?({NAME})", code))
    assigned = set(re.findall(rf"^\s*(?:export\s+|local\s+|readonly\s+)?({NAME})=", code, re.M))
    return used - assigned


def compose_reads(text: str) -> set[str]:
    """What a compose file reads from .env or the shell (``${NAME}``, a secret's
    ``environment: NAME``), and the environment it gives the app's image."""
    code = "\n".join(line.split(" #")[0] for line in text.splitlines())
    names = set(re.findall(rf"\$\{{({NAME})", code))
    names |= set(re.findall(rf"^\s*environment:\s+({NAME})\s*$", code, re.M))
    for service in (yaml.safe_load(text) or {}).get("services", {}).values():
        image = str((service or {}).get("image", ""))
        if image.startswith("${WEATHER_IMAGE") or "build" in (service or {}):
            environment = service.get("environment") or {}
            if isinstance(environment, list):
                environment = dict(item.split("=", 1) for item in environment)
            names |= {key for key in environment if re.fullmatch(NAME, key)}
    return names


def kubernetes_reads(text: str) -> set[str]:
    """The variables a manifest or kustomization gives the pods: ConfigMap literals
    (``- NAME=value``) and container ``env:`` entries (``- name: NAME``)."""
    names = set(re.findall(rf"^\s*-\s+({NAME})=", text, re.M))
    return names | set(re.findall(rf"^\s*-\s+name:\s+({NAME})\s*$", text, re.M))


def project_reads() -> dict[str, set[str]]:
    """Every variable the project reads, by where it is read."""
    reads = {
        "weatherproject/settings.py": settings_reads(
            (ROOT / "weatherproject/settings.py").read_text()
        )
    }
    for path in PYTHON_READERS:
        reads.setdefault(path, set()).update(python_reads((ROOT / path).read_text()))
    for script in sorted((ROOT / "docker").iterdir()):
        if script.is_file() and (script.suffix == ".sh" or script.name == "start"):
            reads[str(script.relative_to(ROOT))] = shell_reads(script.read_text())
    for compose in sorted(ROOT.glob("compose*.yaml")):
        reads[compose.name] = compose_reads(compose.read_text())
    for manifest in sorted((ROOT / "deploy/kubernetes").rglob("*.yaml")):
        reads[str(manifest.relative_to(ROOT))] = kubernetes_reads(manifest.read_text())
    return reads


def test_every_variable_the_project_reads_is_declared():
    missing = {
        f"{name} ({where})"
        for where, names in project_reads().items()
        for name in names
        if name not in BY_NAME
    }
    assert not missing, f"read but not declared in weatherproject/environment.py: {missing}"


def test_every_declared_variable_is_read_somewhere():
    read = set().union(*project_reads().values())
    assert sorted(set(BY_NAME) - read) == []


def test_each_variable_is_declared_once():
    names = [variable.name for variable in VARIABLES]
    assert len(names) == len(set(names))


def env_example(text: str) -> dict[str, str]:
    """The ``NAME=value`` lines of an env file (comments and blank lines skipped)."""
    pairs = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            pairs[name.strip()] = value.strip()
    return pairs


def same_default(variable: Variable, value: str) -> bool:
    if variable.kind in {"number", "integer"} and value and variable.default:
        return float(value) == float(variable.default)
    return value == variable.default


def env_example_problems(text: str) -> list[str]:
    listed = env_example(text)
    wanted = {variable.name for variable in VARIABLES if variable.in_env_example}
    problems = [f"{name}: not in .env.example" for name in sorted(wanted - set(listed))]
    problems += [f"{name}: not declared" for name in sorted(set(listed) - set(BY_NAME))]
    problems += [
        f"{name}: .env.example says {value!r}, the declaration {BY_NAME[name].default!r}"
        for name, value in listed.items()
        if name in BY_NAME and not same_default(BY_NAME[name], value)
    ]
    return problems


def test_env_example_lists_every_variable_with_its_declared_default():
    assert env_example_problems((ROOT / ".env.example").read_text()) == []


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda t: t.replace("WEATHER_CACHE_TTL=600\n", ""), "WEATHER_CACHE_TTL: not in"),
        (lambda t: t + "WEATHER_NOT_A_SETTING=1\n", "WEATHER_NOT_A_SETTING: not declared"),
        (lambda t: t.replace("WEATHER_CACHE_TTL=600", "WEATHER_CACHE_TTL=900"), "says '900'"),
    ],
    ids=["missing", "undeclared", "another-default"],
)
def test_the_env_example_check_rejects_a_drifted_copy(edit, problem):
    problems = env_example_problems(edit((ROOT / ".env.example").read_text()))
    assert any(problem in line for line in problems), problems


def test_the_scanners_find_what_each_kind_of_file_reads():
    assert settings_reads('X = env_number("A_B", minimum=1)\nY = env_secret("C")') == {
        "A_B",
        "C",
        "C_FILE",
    }
    assert python_reads(
        'import os\nK = "PM_DIR"\nos.environ[K]\nos.environ.get("HOST")\nos.getenv("P")'
    ) == {"PM_DIR", "HOST", "P"}
    assert shell_reads('# $NOT_THIS\nA=1\necho "$A ${B:-x} $C"') == {"B", "C"}
    compose = (
        "services:\n  web:\n    image: ${WEATHER_IMAGE:-x}\n    environment:\n"
        "      APP_VAR: ${FROM_DOTENV:-1}\n  db:\n    image: postgres\n"
        "    environment:\n      POSTGRES_DB: w\nsecrets:\n  s:\n    environment: GIVEN\n"
    )
    assert compose_reads(compose) == {"WEATHER_IMAGE", "APP_VAR", "FROM_DOTENV", "GIVEN"}
    assert kubernetes_reads("literals:\n  - A_B=1\nenv:\n  - name: C_D\n  - name: lower\n") == {
        "A_B",
        "C_D",
    }


def test_settings_refuse_to_read_an_undeclared_variable():
    with pytest.raises(ImproperlyConfigured, match="not declared"):
        project_settings.env_str("WEATHER_NOT_DECLARED")


def test_settings_take_defaults_from_the_declaration(monkeypatch):
    for name in ("WEATHER_CACHE_TTL", "WEATHER_METRICS", "VAULT_KV_MOUNT"):
        monkeypatch.delenv(name, raising=False)
    assert project_settings.env_number("WEATHER_CACHE_TTL") == float(
        BY_NAME["WEATHER_CACHE_TTL"].default
    )
    assert project_settings.env_bool("WEATHER_METRICS") is (
        BY_NAME["WEATHER_METRICS"].default == "1"
    )
    assert project_settings.env_str("VAULT_KV_MOUNT") == BY_NAME["VAULT_KV_MOUNT"].default
