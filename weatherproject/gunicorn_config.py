"""gunicorn's settings for serving the app: metrics from every worker, and access lines
that carry each request's ID. ``docker/start`` loads it
(``--config python:weatherproject.gunicorn_config``); its command-line flags add the rest.

- ``PROMETHEUS_MULTIPROC_DIR``: where each worker writes its metric values (the
  ``prometheus_client`` multiprocess mode ``/metrics`` adds up). Set before any worker
  starts, so every worker writes there; when the environment does not name one, a
  private directory is made under the temporary directory and removed at exit. Files
  left by an earlier run are deleted when gunicorn starts (stale counts would add up
  with the new ones), and a worker that exits is marked dead, so its gauges drop out.
- Access lines: gunicorn's own format plus ``request_id=`` (the ID the app returned in
  ``X-Request-ID``); with JSON logs each line also has ``request_id``, ``method``,
  ``path``, ``status``, ``duration_ms`` and ``remote_addr`` as fields.
"""

from __future__ import annotations

import datetime
import logging
import os
import shutil
import tempfile
import traceback
from pathlib import Path
from typing import Any

from gunicorn.glogging import Logger

_MULTIPROC = "PROMETHEUS_MULTIPROC_DIR"
_made_here = not os.environ.get(_MULTIPROC)
if _made_here:
    # Not a fixed path: two gunicorns on one machine (tests, benchmarks) would delete
    # each other's files at start.
    os.environ[_MULTIPROC] = tempfile.mkdtemp(prefix="weather-metrics-")


def on_starting(server: Any) -> None:
    """Start from zero: delete the values an earlier run left in the directory."""
    path = Path(os.environ[_MULTIPROC])
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    """Drop an exited worker's live gauges (its counts are kept: they happened)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def on_exit(server: Any) -> None:
    if _made_here:
        shutil.rmtree(os.environ[_MULTIPROC], ignore_errors=True)


access_log_format = (
    '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s" request_id=%({x-request-id}o)s'
)


class AccessLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger, whose access lines also carry their fields as ``extra``."""

    def access(
        self, resp: Any, req: Any, environ: dict[str, Any], request_time: datetime.timedelta
    ) -> None:
        if not self.access_log_enabled:
            return
        status = str(resp.status).split(None, 1)[0]
        request_id = next(
            (value for name, value in resp.headers if name.lower() == "x-request-id"), "-"
        )
        extra = {
            "request_id": request_id,
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "status": int(status) if status.isdigit() else status,
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "remote_addr": environ.get("REMOTE_ADDR", "-"),
        }
        try:
            if self.cfg.access_log_format == access_log_format:
                line = _line(resp, environ, request_time, status=status, request_id=request_id)
            else:  # the operator's own format: gunicorn's every atom, as it documents them
                atoms = self.atoms_wrapper_class(self.atoms(resp, req, environ, request_time))
                line = self.cfg.access_log_format % atoms
            _log_access(self.access_log, line, extra)
        except Exception:  # as gunicorn's own: a broken line must not fail the request
            self.error(traceback.format_exc())


def _log_access(log: logging.Logger, line: str, extra: dict[str, Any]) -> None:
    """``log.info`` without looking for its caller, which walks the stack for every line
    and always finds ``AccessLogger.access``: that is named here."""
    if not log.isEnabledFor(logging.INFO):
        return
    # The line as the message itself, not a format: "%" in a path stays as it is.
    record = log.makeRecord(
        log.name, logging.INFO, __file__, 0, "%s", (line,), None, func="access", extra=extra
    )
    log.handle(record)


def _line(
    resp: Any,
    environ: dict[str, Any],
    request_time: datetime.timedelta,
    *,
    status: str,
    request_id: str,
) -> str:
    """``access_log_format`` filled in straight from the request and the answer, not from
    gunicorn's forty atoms (every header, the environ, a formatted clock): the line was a
    third of a cached answer's time. tests/unit/test_gunicorn_config.py holds it to
    gunicorn's own rendering of the format."""
    sent = getattr(resp, "sent", None)
    millis = request_time.seconds * 1000 + request_time.microseconds // 1000
    request_line = f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}"
    referer, agent = environ.get("HTTP_REFERER", "-"), environ.get("HTTP_USER_AGENT", "-")
    return (
        f'{_quoted(environ.get("REMOTE_ADDR", "-"))} "{_quoted(request_line)}" {status}'
        f" {sent if sent is not None else '-'} {millis}ms"
        f' "{_quoted(referer)}" "{_quoted(agent)}" request_id={_quoted(request_id)}'
    )


def _quoted(text: str) -> str:
    """As gunicorn's atoms escape a value: a quote in it cannot end the quoted field."""
    return text.replace('"', '\\"')


logger_class = AccessLogger
