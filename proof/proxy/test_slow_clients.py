"""The compose stack's reverse proxy (docker/nginx/weather.conf, as it is) in front of
gunicorn as the image runs it (2 workers x 4 threads): slow clients cannot take the
site down. Run by `make proxy-check`, which provides Debian's nginx.

What the same clients do to gunicorn without the proxy is measured, not asserted:
bench/slow_clients.py prints /healthz's latency both ways, side by side.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from tests.support.appserver import AppServer, base_env, fresh_database
from tests.support.network import session_from
from tests.support.nginx import StackProxy
from tests.support.slow_clients import probe, slow_header_clients, still_open

SLOW_CLIENTS = 50
# The image's defaults (docker/start): WEB_CONCURRENCY=2, GUNICORN_THREADS=4.
WORKERS, THREADS = 2, 4


@pytest.fixture
def proxy(tmp_path, static_root) -> Iterator[StackProxy]:
    """The proxy in front of the app with production settings (the pages used here
    need neither Vault nor the upstream)."""
    with fresh_database(tmp_path) as database_url:
        env = base_env(DATABASE_URL=database_url, DJANGO_STATIC_ROOT=static_root)
        with (
            AppServer(env=env, workers=WORKERS, threads=THREADS) as server,
            StackProxy(f"127.0.0.1:{server.port}") as stack_proxy,
        ):
            yield stack_proxy


def test_healthz_answers_within_a_second_with_50_slow_clients_connected(proxy):
    with slow_header_clients(proxy.port, SLOW_CLIENTS) as sockets:
        time.sleep(0.5)
        outcomes = [status for status, _ in probe(proxy.base_url, times=10, timeout=1)]
        # The slow clients were connected for the whole probe (nginx gives a header
        # 10 s): the proxy held them, it did not turn them away.
        held = sum(1 for conn in sockets if still_open(conn))
    assert outcomes == [200] * 10, outcomes
    assert held == SLOW_CLIENTS
    # Pages, not only the health check, go through meanwhile and afterwards.
    assert requests.get(f"{proxy.base_url}/", timeout=5).status_code == 200


def test_a_header_that_never_ends_is_cut_off(proxy):
    """nginx closes a connection whose header takes longer than client_header_timeout
    (10 s), so slow clients cannot pile up for ever."""
    with slow_header_clients(proxy.port, 1) as (conn,):
        conn.settimeout(20)
        started = time.monotonic()
        try:
            answer = conn.recv(1024)  # until nginx answers or closes
        except ConnectionResetError:
            # The trickle's next line (every 2 s, so also at 10 s) can reach nginx as
            # it closes: a close with unread bytes is a reset, and just as much a cut.
            answer = b""
        waited = time.monotonic() - started
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer
    assert 9 <= waited < 20, waited


def test_large_bodies_are_refused_at_the_proxy(proxy):
    answer = requests.post(f"{proxy.base_url}/", data=b"x" * 100_000, timeout=5)
    assert answer.status_code == 413


def test_the_proxy_replaces_a_forwarded_for_claim(tmp_path):
    """The proxy is the first hop: it overwrites X-Forwarded-For with the peer's address,
    so a client cannot name itself someone else (the app believes the header only from
    the proxy: WEATHER_TRUSTED_PROXIES)."""
    with (
        AppServer(env=base_env(), app="tests.support.echo:application", workers=1) as echo,
        StackProxy(f"127.0.0.1:{echo.port}") as stack_proxy,
    ):
        seen = (
            session_from("127.0.0.7")
            .get(f"{stack_proxy.base_url}/", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=5)
            .json()
        )
    assert seen["HTTP_X_FORWARDED_FOR"] == "127.0.0.7"
    assert seen["HTTP_X_FORWARDED_PROTO"] == "http"
