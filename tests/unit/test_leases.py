"""Refresh leases and single flight: one holder per key, fleet-wide, however many ask."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from weather import leases
from weather.models import Lease

pytestmark = pytest.mark.django_db


def test_a_live_lease_cannot_be_taken_twice():
    assert leases.acquire("k", ttl=60)
    assert leases.acquire("k", ttl=60) is None


def test_a_lapsed_lease_can_be_taken_by_another():
    first = leases.acquire("k", ttl=60)
    Lease.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    second = leases.acquire("k", ttl=60)
    assert second is not None
    assert second != first


def test_release_only_frees_ones_own_lease():
    holder = leases.acquire("k", ttl=60)
    assert holder is not None
    leases.release("k", "someone-else")
    assert Lease.objects.filter(key="k", holder=holder).exists()
    leases.release("k", holder)
    assert not Lease.objects.exists()


def test_the_holder_fetches_unless_a_result_appeared_meanwhile():
    fetched: list[str] = []

    def fetch() -> str:
        fetched.append("x")
        return "fetched"

    def fail() -> str:
        raise AssertionError("the holder never gives up")

    result = leases.single_flight("k", cached=lambda: None, fetch=fetch, wait_until=0, give_up=fail)
    assert (result, fetched) == ("fetched", ["x"])
    result = leases.single_flight(
        "k", cached=lambda: "stored", fetch=fetch, wait_until=0, give_up=fail
    )
    assert (result, fetched) == ("stored", ["x"])
    assert not Lease.objects.exists()


def test_a_waiter_takes_what_the_holder_stored_or_gives_up():
    assert leases.acquire("k", ttl=60)
    answers = iter([None, "stored"])
    result = leases.single_flight(
        "k",
        cached=lambda: next(answers),
        fetch=lambda: "fetched",
        wait_until=float("inf"),
        give_up=lambda: "gave up",
    )
    assert result == "stored"
    result = leases.single_flight(
        "k", cached=lambda: None, fetch=lambda: "fetched", wait_until=0, give_up=lambda: "gave up"
    )
    assert result == "gave up"
