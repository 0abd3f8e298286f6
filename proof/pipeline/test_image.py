"""The image, built by the pipeline's build script on the stand-in base, run with podman.

This is the GitLab pipeline's path, on this machine: build-image builds it; the
unit and integration jobs run in it as GitLab runs them (proof/pipeline/test_gitlab_jobs.py);
the container serves on the host network against OpenBao seeded by vault-init.sh,
this machine's Postgres and the fake upstream, the way the compose stack wires it;
release-image promotes it (proof/pipeline/test_release.py). Then the saved image
is searched for what must never be in it.
"""

from __future__ import annotations

import json
import secrets
import shutil
import sys

import pytest

from proof.pipeline.conftest import REPOSITORY, app_env, build
from proof.pipeline.support import (
    APP_UID,
    SCRIPTS,
    SavedImage,
    answers,
    inspect,
    output,
    podman,
    read_saved_image,
    run,
    serving,
)
from tests.support.network import free_port
from tests.support.processes import wait_until

# What the image's /app may hold: the code, the start and health scripts, the
# collected static files. Nothing else from the build context.
APP_ENTRIES = {
    "/app/manage.py",
    "/app/weatherproject",
    "/app/weather",
    "/app/docker",
    "/app/staticfiles",
}
NEVER_IN_IMAGE = {
    ".git",
    ".env",
    ".venv",
    "db.sqlite3",
    "__pycache__",
    "tests",
    "proof",
    "compose.yaml",
}


# --- what the image is ----------------------------------------------------------------


def test_image_runs_as_numeric_non_root_with_exec_form_healthcheck(image):
    details = inspect("image", image)
    config = details["Config"]
    assert config["User"] == f"{APP_UID}:{APP_UID}"
    # Exec form ("CMD"), not a shell string ("CMD-SHELL"); kept because the image is
    # built in docker format (the OCI format has no HEALTHCHECK).
    assert details["Healthcheck"]["Test"] == ["CMD", "python3", "/app/docker/healthcheck.py"]
    assert config["Cmd"] == ["/app/docker/start"]
    names = {entry.split("=", 1)[0] for entry in config["Env"]}
    # The throwaway key collectstatic needed at build time did not persist.
    assert "DJANGO_SECRET_KEY" not in names


def test_the_jobs_run_the_digest_the_build_pushed(pushed_build, image):
    in_registry = run(
        ["skopeo", "inspect", "--format", "{{.Digest}}", f"docker://{pushed_build['tag']}"]
    ).stdout.strip()
    assert pushed_build["dotenv"] == f"IMAGE_DIGEST={in_registry}"
    assert image.endswith(f"@{in_registry}")
    assert image in inspect("image", image)["RepoDigests"]


def test_a_code_only_change_reuses_the_dependency_layer(build_context, build_args, tmp_path):
    changed = tmp_path / "context"
    shutil.copytree(build_context, changed, symlinks=True)
    with (changed / "weather" / "views.py").open("a") as views:
        views.write("\n# A code-only change.\n")
    log = output(build(changed, f"{REPOSITORY}:{secrets.token_hex(6)}", build_args))
    steps = [block.splitlines() for block in log.split("STEP ")[1:]]
    install = next(lines for lines in steps if "pip install" in lines[0])
    code = next(lines for lines in steps if lines[0].endswith("COPY weather/ weather/"))
    assert any("Using cache" in line for line in install), "\n".join(install)
    assert not any("Using cache" in line for line in code), "the change was not seen"


# --- the container, wired like the compose stack ------------------------------------------


def test_smoke_checks_pass_against_the_container(app_container, fake_upstream, runtime_key):
    result = run(
        [
            sys.executable,
            SCRIPTS / "smoke.py",
            app_container["url"],
            "--fake-upstream",
            fake_upstream.base_url,
        ],
        env={"OPENWEATHER_API_KEY": runtime_key},
        check=False,
    )
    logs = output(podman("logs", app_container["name"]))
    assert result.returncode == 0, output(result) + "\n--- container log\n" + logs
    print(result.stdout)


def test_every_process_in_the_container_runs_as_the_app_user(app_container):
    probe = (
        "import json, pathlib\n"
        "print(json.dumps({p.parent.name: [l.split()[1:] for l in p.read_text().splitlines()"
        " if l.startswith(('Uid:', 'Gid:'))]"
        " for p in pathlib.Path('/proc').glob('[0-9]*/status')}))"
    )
    processes = json.loads(podman("exec", app_container["name"], "python3", "-c", probe).stdout)
    assert len(processes) >= 3, processes  # the gunicorn master, its workers, this probe
    for pid, (uids, gids) in processes.items():
        assert set(uids) == set(gids) == {str(APP_UID)}, (pid, uids, gids)


def test_podman_healthcheck_reports_healthy(app_container):
    result = podman("healthcheck", "run", app_container["name"], check=False)
    assert result.returncode == 0, output(result)
    state = inspect("container", app_container["name"])["State"]
    assert (state.get("Health") or state.get("Healthcheck"))["Status"] == "healthy"


def test_the_container_holds_neither_the_key_nor_a_vault_token(app_container, runtime_key):
    env = inspect("container", app_container["name"])["Config"]["Env"]
    assert not [e for e in env if runtime_key in e or e.startswith(("VAULT_TOKEN=", "BAO_"))]
    logs = output(podman("logs", app_container["name"]))
    assert runtime_key not in logs
    assert "[ERROR]" not in logs, logs
    assert "Traceback" not in logs, logs


def test_starting_does_not_migrate(image, make_database):
    database, port = make_database(), free_port()
    env = app_env(DATABASE_URL=database, GUNICORN_BIND=f"127.0.0.1:{port}")
    with serving(image, env=env) as name:
        wait_until(
            lambda: answers(f"http://127.0.0.1:{port}/healthz"),
            what="the app",
            timeout=60,
            log=lambda: output(podman("logs", name)),
        )
        tables = run(
            [
                "psql",
                "--tuples-only",
                "--no-align",
                database,
                "--command",
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
            ]
        ).stdout.strip()
        assert tables == "0", "the server migrated the database on start"


# --- what is not in the image -------------------------------------------------------------


@pytest.fixture(scope="module")
def saved_image(image, tmp_path_factory) -> SavedImage:
    archive = tmp_path_factory.mktemp("saved") / "image.tar"
    podman("save", "--format", "docker-archive", "--output", str(archive), image)
    return read_saved_image(archive)


def test_no_key_is_in_any_layer_or_in_the_image_config(saved_image, planted_key, runtime_key):
    # The search works: it finds what is known to be there.
    assert saved_image.find(b"weatherproject.wsgi:application")
    assert saved_image.find(b"collectstatic-at-build-time-only")  # the RUN line, in history
    for key in (planted_key, runtime_key):
        assert saved_image.find(key.encode()) == [], f"{key} found in the image"


def test_the_working_copy_leftovers_are_not_in_the_image(saved_image):
    paths = {path.rstrip("/") for path in saved_image.paths()}
    assert {p for p in paths if p.count("/") == 2 and p.startswith("/app/")} == APP_ENTRIES
    leaked = sorted(
        path for path in paths if path.startswith("/app/") and NEVER_IN_IMAGE & set(path.split("/"))
    )
    assert leaked == []


def test_a_broken_dockerignore_is_caught_by_the_same_search(
    build_context, build_args, planted_key, tmp_path
):
    broken = tmp_path / "context"
    shutil.copytree(build_context, broken, symlinks=True)
    (broken / ".dockerignore").write_text("# everything goes\n")
    tag = f"{REPOSITORY}:{secrets.token_hex(6)}"
    build(broken, tag, build_args)
    podman("save", "--format", "docker-archive", "--output", str(tmp_path / "i.tar"), tag)
    saved = read_saved_image(tmp_path / "i.tar")
    assert saved.find(planted_key.encode()), "a broken .dockerignore leaked nothing?"
    assert "/app/weather/.env" in saved.paths()
