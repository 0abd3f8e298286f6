"""One idle connection per process holds each SQLite file open (weather/sqlite_anchor.py),
so a request's own connection is never the last one and its close does not checkpoint
the WAL into the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper

from weather.caching import clear_all
from weather.sqlite_anchor import anchors

pytestmark = pytest.mark.django_db


def file_database(path: Path) -> DatabaseWrapper:
    """A connection to a SQLite file in WAL mode, as settings.py configures one."""
    settings: dict[str, Any] = {
        **connection.settings_dict,
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "CONN_MAX_AGE": 0,
        "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"},
        "TEST": {},
    }
    return DatabaseWrapper(settings, alias=f"file-{path.name}")


def write_and_close(database: DatabaseWrapper) -> None:
    with database.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
        cursor.execute("INSERT INTO t VALUES (1)")
    database.close()


@pytest.fixture(autouse=True)
def no_anchors():
    clear_all()
    yield
    clear_all()


def test_the_first_connection_to_a_file_opens_one_anchor_for_the_process(tmp_path):
    path = tmp_path / "db.sqlite3"
    write_and_close(file_database(path))
    write_and_close(file_database(path))
    assert anchors.files() == [str(path)]


def test_closing_a_request_s_connection_leaves_the_wal_unmerged(tmp_path):
    path = tmp_path / "db.sqlite3"
    write_and_close(file_database(path))
    wal = Path(f"{path}-wal")
    # Written, and not checkpointed on close: the anchor is still open.
    assert wal.exists()
    assert wal.stat().st_size > 0


def test_without_the_anchor_the_last_close_checkpoints(tmp_path):
    """What the anchor saves: the last connection's close merges and removes the WAL."""
    path = tmp_path / "db.sqlite3"
    write_and_close(file_database(path))
    clear_all()  # the anchor closed: the file has no connection left
    write_and_close(file_database(path))
    clear_all()
    assert not Path(f"{path}-wal").exists()


def test_in_memory_databases_get_no_anchor():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    if connection.vendor == "sqlite":
        assert anchors.files() == []


def test_a_file_that_cannot_be_held_open_is_served_without_an_anchor(tmp_path, caplog):
    path = tmp_path / "db.sqlite3"
    write_and_close(file_database(path))
    clear_all()
    anchors.hold(str(tmp_path / "missing-dir" / "db.sqlite3"), timeout=1)
    assert anchors.files() == []
    assert "could not hold" in caplog.text
