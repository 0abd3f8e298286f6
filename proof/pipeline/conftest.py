"""Fixtures for the pipeline checks: the tools, a developer-like build context, the
image built from it with the pipeline's own build script, and what that image runs
against here (OpenBao seeded by docker/vault-init.sh, the fake upstream, Postgres).

Everything these fixtures create (containers, images, databases, servers) is removed
when the session ends; only the stand-ins' caches stay (proof/tools/base-image and
stand-in-images).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from proof.pipeline.support import (
    APP_UID,
    HOST_CA_IN_CONTAINER,
    PROOF_TOOLS,
    ROOT,
    SCRIPTS,
    answers,
    copy_repository,
    host_ca_volume,
    podman,
    podman_run,
    run,
    serving,
)
from tests.fakes.openweather import FakeOpenWeather
from tests.support.network import free_port
from tests.support.openbao import OpenBaoServer
from tests.support.processes import wait_until

TOOLS = (
    "hadolint",
    "check-jsonschema",
    "gitlab-ci-local",
    "docker-compose",
    "podman",
    "buildah",
    "skopeo",
    "kustomize",
    "docker-registry",
    "renovate",
    "renovate-config-validator",
    "bao",
    "git",
    "rsync",
    "psql",
)
POSTGRES = "postgres://postgres@127.0.0.1:5432"
# Where the checks tag what they build (in their own storage: see podman_storage).
REPOSITORY = "localhost/weather-ci"


@pytest.fixture(scope="session", autouse=True)
def tools() -> None:
    """Every tool is there: a missing one fails the run, it never skips a check."""
    missing = [tool for tool in TOOLS if not shutil.which(tool)]
    if missing or not os.environ.get("CONTAINERS_CONF"):
        pytest.fail(
            f"missing {missing or 'CONTAINERS_CONF'}: run these through `make pipeline-check`, "
            "which installs the tools (proof/tools/install-tools) and sets the environment"
        )


@pytest.fixture(scope="session")
def planted_key() -> str:
    """A fake OpenWeather key left where developers leave keys: .env, a database, .git."""
    return "owm-planted-" + secrets.token_hex(16)


@pytest.fixture(scope="session")
def runtime_key() -> str:
    """The key the running app reads from Vault (and the fake upstream accepts)."""
    return "owm-runtime-" + secrets.token_hex(16)


def _plant(ctx: Path, key: str) -> None:
    (ctx / ".env").write_text(f"DJANGO_DEBUG=1\nOPENWEATHER_API_KEY={key}\n")
    (ctx / "weather" / ".env").write_text(f"OPENWEATHER_API_KEY={key}\n")
    with sqlite3.connect(ctx / "db.sqlite3") as db:
        db.execute("CREATE TABLE notes (body TEXT)")
        db.execute("INSERT INTO notes VALUES (?)", (f"the key is {key}",))
    (ctx / "weather" / "__pycache__").mkdir(exist_ok=True)
    (ctx / "weather" / "__pycache__" / "planted.cpython-311.pyc").write_text(key)
    (ctx / ".venv" / "bin").mkdir(parents=True)
    (ctx / ".venv" / "bin" / "activate").write_text(f"export OPENWEATHER_API_KEY={key}\n")


@pytest.fixture(scope="session")
def build_context(tmp_path_factory: pytest.TempPathFactory, planted_key: str) -> Path:
    """The repository as a developer's working copy looks: with .git, a .env holding a
    key, a local database, a virtualenv and bytecode. The image must contain none of it.
    """
    ctx = tmp_path_factory.mktemp("context")
    run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(ctx)])
    # Uncommitted work too: the context is what is on disk, not the last commit.
    copy_repository(ctx)
    git = ["git", "-C", str(ctx), "-c", "user.name=dev", "-c", "user.email=dev@localhost"]
    run([*git, "add", "--all"])
    # The key in a commit message lands, uncompressed, in .git/logs/HEAD.
    run([*git, "commit", "--quiet", "--allow-empty", "--message", f"wip {planted_key}"])
    _plant(ctx, planted_key)
    return ctx


@pytest.fixture(scope="session")
def base_image() -> str:
    """The cached stand-in for python:3.x-slim (made on first use, about 75 s)."""
    return run([PROOF_TOOLS / "base-image"], timeout=900).stdout.strip()


@pytest.fixture(scope="session")
def stand_ins(podman_storage: Path) -> list[str]:
    """The stand-ins for the images no registry serves here (postgres, openbao, nginx,
    gitlab-ci-local's helpers), under the names the project's files use, in this run's
    storage: loaded from their cached archives, or built once (about a minute)."""
    return run([PROOF_TOOLS / "stand-in-images"], timeout=900).stdout.split()


@pytest.fixture(scope="session")
def build_args(tmp_path_factory: pytest.TempPathFactory, base_image: str) -> list[str]:
    """What this machine adds to the pipeline's build: the stand-in base, no pulls, and
    the host's CA bundle for pip (PyPI is reached through a TLS proxy here). Mounts
    exist only while a RUN step runs; nothing of them is in the image.
    """
    args = ["--pull=never", "--build-arg", f"PYTHON_IMAGE={base_image}"]
    if ca := host_ca_volume():
        conf = tmp_path_factory.mktemp("pip") / "pip.conf"
        conf.write_text(f"[global]\ncert = {HOST_CA_IN_CONTAINER}\n")
        args += [*ca, "--volume", f"{conf}:/etc/pip.conf:ro"]
    return args


@pytest.fixture(scope="session", autouse=True)
def podman_storage(tools: None) -> Iterator[Path]:
    """A podman/buildah/skopeo storage of this run's own, under /var/tmp.

    Two runs on one machine (two branches' CI, say) then never see or remove each
    other's images, and cleaning up everything this run made, containers, images,
    intermediate layers, is removing this storage.
    """
    root = Path(tempfile.mkdtemp(prefix="weather-ci-storage-", dir="/var/tmp"))
    conf = root / "storage.conf"
    conf.write_text(
        f'[storage]\ndriver = "overlay"\ngraphroot = "{root}/graph"\nrunroot = "{root}/run"\n'
    )
    os.environ["CONTAINERS_STORAGE_CONF"] = str(conf)
    try:
        yield root
    finally:
        podman("rm", "--all", "--force", check=False)
        podman("rmi", "--all", "--force", check=False)
        run(["buildah", "rm", "--all"], check=False)
        del os.environ["CONTAINERS_STORAGE_CONF"]
        shutil.rmtree(root)


@pytest.fixture(scope="session")
def registry(podman_storage: Path) -> Iterator[str]:
    """A real container registry (CNCF Distribution) on loopback, plain HTTP, for this
    run only: what GitLab's container registry is to the jobs. Returns host:port."""
    port = free_port()
    address = f"127.0.0.1:{port}"
    root = podman_storage / "registry"
    root.mkdir()
    (root / "config.yml").write_text(
        "version: 0.1\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root}/data\n"
        f"http:\n  addr: {address}\n"
        "log:\n  level: warn\n"
    )
    # buildah, skopeo and podman speak plain HTTP to it, and to nothing else. podman
    # reads CONTAINERS_REGISTRIES_CONF; this skopeo and buildah only their flag, so
    # wrappers first on PATH add it (the scripts under test stay as GitLab runs them).
    conf = root / "registries.conf"
    conf.write_text(f'[[registry]]\nlocation = "{address}"\ninsecure = true\n')
    wrappers = root / "bin"
    wrappers.mkdir()
    for tool in ("skopeo", "buildah"):
        real = shutil.which(tool)
        (wrappers / tool).write_text(f'#!/bin/sh\nexec {real} --registries-conf {conf} "$@"\n')
        (wrappers / tool).chmod(0o755)
    saved_path = os.environ["PATH"]
    os.environ["PATH"] = f"{wrappers}:{saved_path}"
    os.environ["CONTAINERS_REGISTRIES_CONF"] = str(conf)
    with (root / "registry.log").open("w") as log:
        server = subprocess.Popen(
            ["docker-registry", "serve", str(root / "config.yml")], stdout=log, stderr=log
        )
    try:
        wait_until(
            lambda: answers(f"http://{address}/v2/"),
            what="the registry",
            timeout=30,
            process=server,
            log=(root / "registry.log").read_text,
        )
        yield address
    finally:
        server.terminate()
        server.wait(timeout=30)
        del os.environ["CONTAINERS_REGISTRIES_CONF"]
        os.environ["PATH"] = saved_path


@dataclass(frozen=True)
class SigningKey:
    """A sigstore key pair as the release job's file variables hold it."""

    private: Path
    public: Path
    passphrase: str

    def release_env(self) -> dict[str, str]:
        """What release-image signs with: GitLab's SIGNING_KEY and its passphrase."""
        return {"SIGNING_KEY": str(self.private), "SIGNING_KEY_PASSPHRASE": self.passphrase}


def make_signing_key(directory: Path, name: str) -> SigningKey:
    """A key pair made as docs/how-to/gitlab.md says to make the release key."""
    passphrase = secrets.token_urlsafe(24)
    (directory / f"{name}.passphrase").write_text(passphrase + "\n")
    run(
        [
            "skopeo",
            "generate-sigstore-key",
            "--output-prefix",
            directory / name,
            "--passphrase-file",
            directory / f"{name}.passphrase",
        ]
    )
    return SigningKey(directory / f"{name}.private", directory / f"{name}.pub", passphrase)


@pytest.fixture(scope="session")
def release_key(tmp_path_factory: pytest.TempPathFactory) -> SigningKey:
    """The release key: the one the deploy jobs trust."""
    return make_signing_key(tmp_path_factory.mktemp("keys"), "release")


@pytest.fixture(scope="session")
def other_key(tmp_path_factory: pytest.TempPathFactory) -> SigningKey:
    """A well-formed key that is not the release key."""
    return make_signing_key(tmp_path_factory.mktemp("keys"), "other")


def build(context: Path, tag: str, args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """Build with the pipeline's own script (GitLab's build job); no push unless asked."""
    return run(
        [SCRIPTS / "build-image", *args],
        env={"IMAGE": tag, "CONTEXT": str(context), **env},
        timeout=900,
    )


@pytest.fixture(scope="session")
def pushed_build(
    build_context: Path, build_args: list[str], registry: str, tmp_path_factory
) -> dict[str, str]:
    """The build job as GitLab runs it: build, push, the digest in a dotenv report."""
    tag = f"{registry}/weather-ci:{secrets.token_hex(6)}"
    dotenv = tmp_path_factory.mktemp("build") / "build.env"
    log = build(build_context, tag, build_args, PUSH="1", DOTENV=str(dotenv)).stdout
    (line,) = dotenv.read_text().splitlines()
    name, digest = line.split("=", 1)
    assert name == "IMAGE_DIGEST", line
    return {"tag": tag, "digest": digest, "dotenv": line, "log": log}


@pytest.fixture(scope="session")
def image(pushed_build: dict[str, str]) -> str:
    """What the test jobs run: the pushed image by its digest ($CI_REGISTRY_IMAGE@$IMAGE_DIGEST),
    pulled from the registry as a runner pulls it."""
    reference = f"{pushed_build['tag'].rsplit(':', 1)[0]}@{pushed_build['digest']}"
    podman("pull", "--quiet", reference, timeout=900)
    return reference


@pytest.fixture(scope="session")
def openbao() -> Iterator[OpenBaoServer]:
    with OpenBaoServer() as server:
        yield server


def vault_init(
    server: OpenBaoServer,
    secret_file: Path,
    *,
    key: str,
    script: Path | None = None,
    owner: str = f"{APP_UID}:{APP_UID}",
    secrets_as: str = "files",
    **env: str,
) -> subprocess.CompletedProcess[str]:
    """Seed a server with docker/vault-init.sh, exactly as compose's vault-init does.

    The root token and the key arrive as files (compose's secrets, NAME_FILE), or with
    ``secrets_as="environment"`` as variables (GitLab's integration job).
    """
    given = {"VAULT_TOKEN": server.root_token, "OPENWEATHER_API_KEY": key}
    if secrets_as == "files":
        where = secret_file.parent / f"run-secrets-{uuid.uuid4().hex[:8]}"
        where.mkdir(mode=0o700)
        for name, value in list(given.items()):
            (where / name.lower()).write_text(value)
            given[f"{name}_FILE"] = str(where / name.lower())
            del given[name]
    return run(
        ["sh", script or ROOT / "docker" / "vault-init.sh"],
        env={
            "VAULT_ADDR": server.addr,
            **given,
            "SECRET_ID_FILE": str(secret_file),
            "SECRET_ID_OWNER": owner,
            **env,
        },
        check=False,
    )


@pytest.fixture(scope="session")
def secret_id_file(
    openbao: OpenBaoServer, runtime_key: str, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The AppRole secret ID that vault-init hands the web app, owned by its UID."""
    path = tmp_path_factory.mktemp("vault-creds") / "secret-id"
    result = vault_init(openbao, path, key=runtime_key)
    assert result.returncode == 0, result.stdout + result.stderr
    return path


@pytest.fixture(scope="session")
def fake_upstream(runtime_key: str) -> Iterator[FakeOpenWeather]:
    server = FakeOpenWeather(api_key=runtime_key, port=0).start()
    yield server
    server.stop()


def _psql(sql: str) -> None:
    run(["psql", "--quiet", "--no-psqlrc", f"{POSTGRES}/postgres", "--command", sql])


@pytest.fixture(scope="session")
def make_database() -> Iterator[Callable[[], str]]:
    """Make empty databases on this machine's Postgres; all are dropped at the end."""
    made: list[str] = []

    def make() -> str:
        name = f"weather_ci_{secrets.token_hex(4)}"
        _psql(f"CREATE DATABASE {name}")
        made.append(name)
        return f"{POSTGRES}/{name}"

    yield make
    for name in made:
        _psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def app_env(**extra: str) -> dict[str, str]:
    """The app's production settings for plain HTTP on loopback; secrets are per run."""
    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        **extra,
    }


@pytest.fixture(scope="session")
def compose_web(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """compose.yaml's `web` service as Compose resolves it with nothing configured."""
    env_file = tmp_path_factory.mktemp("compose") / "env"
    env_file.write_text("")
    config = run(
        [
            "docker-compose",
            "--project-directory",
            ROOT,
            "--file",
            ROOT / "compose.yaml",
            "--env-file",
            env_file,
            "config",
            "--format",
            "json",
        ],
    )
    web: dict[str, Any] = json.loads(config.stdout)["services"]["web"]
    return web


@pytest.fixture(scope="session")
def app_container(
    image: str,
    compose_web: dict[str, Any],
    make_database,
    secret_id_file: Path,
    openbao: OpenBaoServer,
    fake_upstream: FakeOpenWeather,
) -> Iterator[dict[str, str]]:
    """The image wired as compose.yaml wires `web`: its environment as Compose resolves
    it, with only the addresses of Postgres, OpenBao and the upstream moved to this
    machine's loopback, and the AppRole secret ID mounted where vault-init leaves it.
    Migrated first by the explicit step, as the stack's `migrate` service does."""
    database, port = make_database(), free_port()
    moved = {
        "DATABASE_URL": database,
        "VAULT_ADDR": openbao.addr,
        "OPENWEATHER_BASE_URL": fake_upstream.base_url,
        # Host network: each run on its own port rather than compose's port mapping.
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        # The stack's proxy is not here: the test client is the one peer to trust.
        "WEATHER_TRUSTED_PROXIES": "127.0.0.1",
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
    }
    environment = compose_web["environment"]
    assert set(moved) - {"GUNICORN_BIND"} <= set(environment), "compose.yaml's web changed"
    # Secrets that compose's stack-secrets leaves in volumes: here in the environment
    # (the database's password is in its URL).
    in_volumes = {"DJANGO_SECRET_KEY_FILE", "DATABASE_PASSWORD_FILE"}
    assert in_volumes <= set(environment)
    env = {
        **{k: v for k, v in environment.items() if k not in in_volumes},
        **moved,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    }
    (creds,) = [v for v in compose_web["volumes"] if v["source"] == "vault-creds"]
    assert env["VAULT_SECRET_ID_FILE"].startswith(creds["target"] + "/")
    podman_run(image, "python3", "manage.py", "migrate", "--no-input", env=env)
    secret_id = ["--volume", f"{secret_id_file}:{env['VAULT_SECRET_ID_FILE']}:ro"]
    with serving(image, env=env, options=secret_id) as name:
        yield {"name": name, "url": f"http://127.0.0.1:{port}", "database": database}
