"""The fleet-wide promises across instances, not only across one master's workers.

Three gunicorn masters on their own ports (as three pods would be) behind nginx
round-robin, one PostgreSQL, one OpenBao, the fake upstream: a crowd costs one
current-weather and one forecast call per place in the whole fleet, the budget holds
fleet-wide, and an instance killed with SIGKILL in the middle of a refresh loses
nothing: its lease lapses, another instance completes the refresh, no client sees a
500, and what it had stored is still served. A new release replacing the instances
one at a time (a rolling update's order, the others serving) fails no request.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests

from proof.fleet.conftest import INSTANCES, running_fleet
from tests.support.appserver import AppServer
from tests.support.crowd import hammer
from tests.support.network import wait_for_a_fresh_minute

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

POINTS = [(round(-55 + 3.7 * i, 2), round(-160 + 10.9 * i, 2)) for i in range(31)]


def url_for(point: tuple[float, float]) -> str:
    return f"/api/weather?lat={point[0]}&lon={point[1]}"


def kill_instance(server: AppServer) -> None:
    """SIGKILL the gunicorn master and its workers at once, as a node or pod dies."""
    workers = [
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and _parent_of(entry) == server.pid
    ]
    for pid in [server.pid, *workers]:
        os.kill(pid, signal.SIGKILL)


def _parent_of(proc: Path) -> int | None:
    try:
        # The command may hold spaces and parentheses: the fields after the last ")".
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def test_a_crowd_over_the_fleet_costs_one_call_per_place(fleet_env, fake_upstream):
    env = {**fleet_env, "WEATHER_BUDGET_PER_MINUTE": "1000"}
    fake_upstream.latency = 0.15  # a realistic round trip, so requests overlap
    places = POINTS[:30]
    # 50 clients, 150 requests: every new place asked for five times, spread out.
    urls = [url_for(point) for point in places] * 5
    urls = urls[::7] + urls[1::7] + urls[2::7] + urls[3::7] + urls[4::7] + urls[5::7] + urls[6::7]
    with running_fleet(env) as fleet:
        statuses = hammer(fleet.base_url, urls, clients=50)
        assert statuses == {200: len(urls)}, fleet.proxy.error_log()[-2000:]
        calls = fake_upstream.call_counts()
        assert (calls["weather"], calls["forecast"]) == (30, 30)
        served = fleet.proxy.served_by()
        assert len(served) == INSTANCES, served
        assert min(served.values()) >= len(urls) // INSTANCES // 2, served


def test_the_budget_holds_across_the_fleet(fleet_env, fake_upstream):
    env = {**fleet_env, "WEATHER_BUDGET_PER_MINUTE": "10"}
    with running_fleet(env) as fleet:
        wait_for_a_fresh_minute()
        statuses = hammer(fleet.base_url, [url_for(p) for p in POINTS[:30]], clients=30)
        calls = fake_upstream.call_counts()
        assert calls["weather"] + calls["forecast"] + calls["geocode"] <= 10
        assert set(statuses) <= {200, 429}, statuses
        assert statuses[429] >= 25  # two calls a place: five places fit in ten calls


def test_an_instance_killed_mid_refresh_loses_nothing(fleet_env, fake_upstream):
    # A short request budget keeps the dead instance's lease short (budget + 5 s).
    env = {**fleet_env, "WEATHER_BUDGET_PER_MINUTE": "1000", "WEATHER_REQUEST_BUDGET": "3"}
    stored, orphan = POINTS[:10], POINTS[30]
    with running_fleet(env) as fleet:
        assert hammer(fleet.base_url, [url_for(p) for p in stored], clients=10) == {200: 10}
        victim = fleet.instances[0]

        # A refresh of a new place starts on the victim, and the victim dies in it.
        fake_upstream.latency = 2.0
        before = fake_upstream.call_counts()
        thread = threading.Thread(target=ask_and_die, args=(victim, orphan), daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while fake_upstream.call_counts()["weather"] == before["weather"]:
            assert time.monotonic() < deadline, "the refresh never reached the upstream"
            time.sleep(0.01)
        kill_instance(victim)
        fake_upstream.latency = 0.05
        killed_at = time.monotonic()

        # Through the balancer: nobody sees a 5xx other than a 503 with Retry-After
        # for the place that has no stored copy, until another instance completes it.
        statuses: list[int] = []
        session = requests.Session()
        while True:
            response = session.get(fleet.base_url + url_for(orphan), timeout=30)
            statuses.append(response.status_code)
            if response.status_code == 200:
                break
            assert response.status_code == 503, response.text[:500]
            assert int(response.headers["Retry-After"]) > 0
            assert time.monotonic() - killed_at < 30, statuses
        assert response.json()["source"] == "upstream"
        # The dead instance's lease held the place until it lapsed: it was mid-refresh.
        assert statuses[0] == 503, statuses
        calls = fake_upstream.call_counts()
        # The dead instance's pair (weather and forecast go out together) and the pair
        # that completed.
        assert calls["weather"] - before["weather"] == 2
        assert calls["forecast"] - before["forecast"] == 2

        # What the fleet had stored is all still served, without the upstream.
        again = hammer(fleet.base_url, [url_for(p) for p in stored] * 3, clients=15)
        assert again == {200: 30}, again
        assert fake_upstream.call_counts() == calls
        thread.join(timeout=10)


def test_a_release_rolled_out_one_instance_at_a_time_fails_no_request(fleet_env, fake_upstream):
    """Each instance in turn is stopped as Kubernetes stops a pod (SIGTERM: gunicorn
    finishes what it is serving) and a new one, the next release, takes its place, while
    clients keep asking through the balancer; the Deployment does the same with
    maxUnavailable 0 and a readiness probe (deploy/kubernetes/base/deployment.yaml)."""
    env = {**fleet_env, "WEATHER_BUDGET_PER_MINUTE": "1000"}
    places = POINTS[:10]
    with running_fleet(env) as fleet:
        assert hammer(fleet.base_url, [url_for(p) for p in places], clients=10) == {200: 10}
        statuses: list[int] = []
        done = threading.Event()

        def visitor(offset: int) -> None:
            session = requests.Session()
            i = offset
            while not done.is_set():
                response = session.get(
                    fleet.base_url + url_for(places[i % len(places)]), timeout=30
                )
                statuses.append(response.status_code)
                i += 1

        visitors = [threading.Thread(target=visitor, args=(n,), daemon=True) for n in range(4)]
        for thread in visitors:
            thread.start()
        old_pids = {server.pid for server in fleet.instances}
        for index, old in enumerate(list(fleet.instances)):
            address = f"127.0.0.1:{old.port}"
            old.__exit__()
            fleet.instances[index] = AppServer(env=env, workers=2, threads=4, port=old.port).start()
            # The next one only once this one serves through the balancer again (the
            # readiness gate; nginx retries a refused instance after its fail_timeout).
            served = fleet.proxy.served_by().get(address, 0)
            deadline = time.monotonic() + 45
            while fleet.proxy.served_by().get(address, 0) <= served:
                assert time.monotonic() < deadline, f"{address} never served again"
                time.sleep(0.5)
        done.set()
        for thread in visitors:
            thread.join(timeout=30)
        assert {server.pid for server in fleet.instances}.isdisjoint(old_pids)
        assert len(statuses) > 100, len(statuses)
        assert set(statuses) == {200}, (Counter(statuses), fleet.proxy.error_log()[-2000:])
        # The new release serves: every instance answers, and the fleet still costs
        # nothing upstream for what it had stored.
        for server in fleet.instances:
            assert server.get("/healthz").status_code == 200
        assert fake_upstream.call_counts()["weather"] == len(places)


def ask_and_die(server: AppServer, point: tuple[float, float]) -> None:
    """Ask ``server`` directly for ``point``; it is killed while answering."""
    with contextlib.suppress(requests.RequestException):
        server.get("/api/weather", lat=point[0], lon=point[1])
