"""Admin login throttling: django-axes as configured in weatherproject/settings.py."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import timezone

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
USERNAME = "operator"
PASSWORD = "correct-horse-battery-staple"
ATTACKER = "203.0.113.7"
ELSEWHERE = "198.51.100.20"
LIMIT = 5
COOL_OFF = timedelta(minutes=15)


@pytest.fixture
def operator(django_user_model):
    return django_user_model.objects.create_superuser(USERNAME, "ops@example.com", PASSWORD)


@pytest.fixture
def lockout_settings(settings):
    """The shipped defaults, pinned so an AXES_* variable in the environment cannot skew them."""
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = COOL_OFF
    return settings


def log_in(client, *, password: str, address: str, **headers: str):
    return client.post(
        LOGIN,
        {"username": USERNAME, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
        **headers,
    )


def fail_until_locked(client, *, address: str = ATTACKER, **headers: str):
    """Send wrong passwords up to the limit; return the last answer."""
    for _ in range(LIMIT):
        response = log_in(client, password="wrong", address=address, **headers)
    return response


def is_locked_out(response) -> bool:
    return response.status_code == 429 and "admin/locked_out.html" in {
        template.name for template in response.templates
    }


def is_logged_in(response) -> bool:
    return response.status_code == 302 and bool(response.url == "/admin/")


def test_defaults_are_five_failures_and_fifteen_minutes_per_username_and_address():
    assert django_settings.AXES_FAILURE_LIMIT == 5
    assert timedelta(minutes=15) == django_settings.AXES_COOLOFF_TIME
    assert django_settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert django_settings.AXES_HANDLER == "axes.handlers.database.AxesDatabaseHandler"


def test_wrong_passwords_get_the_form_until_the_limit_then_the_lockout_page(
    client, operator, lockout_settings
):
    for _ in range(LIMIT - 1):
        response = log_in(client, password="wrong", address=ATTACKER)
        assert response.status_code == 200
        assert "Please enter the correct username and password" in response.content.decode()
    assert is_locked_out(log_in(client, password="wrong", address=ATTACKER))


def test_the_right_password_is_refused_after_the_limit(client, operator, lockout_settings):
    fail_until_locked(client)
    response = log_in(client, password=PASSWORD, address=ATTACKER)
    assert is_locked_out(response)
    html = response.content.decode()
    assert "Too many failed logins" in html
    assert f"paused after {LIMIT} failed attempts" in html
    assert "Weather dashboard administration" in html
    assert "_auth_user_id" not in client.session


def test_the_operator_can_still_log_in_from_another_address(client, operator, lockout_settings):
    fail_until_locked(client)
    assert is_logged_in(log_in(client, password=PASSWORD, address=ELSEWHERE))


def test_a_forged_forwarded_for_header_does_not_unlock(client, operator, lockout_settings):
    fail_until_locked(client)
    response = log_in(client, password=PASSWORD, address=ATTACKER, HTTP_X_FORWARDED_FOR=ELSEWHERE)
    assert is_locked_out(response)


def test_a_new_forged_forwarded_for_per_try_still_counts_against_the_peer(
    client, operator, lockout_settings
):
    for n in range(LIMIT):
        response = log_in(
            client, password="wrong", address=ATTACKER, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}"
        )
    assert is_locked_out(response)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}


def test_a_forged_forwarded_for_header_cannot_lock_out_someone_else(
    client, operator, lockout_settings
):
    fail_until_locked(client, HTTP_X_FORWARDED_FOR=ELSEWHERE)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}
    assert is_logged_in(log_in(client, password=PASSWORD, address=ELSEWHERE))


def test_the_lockout_is_logged_at_warning_with_the_address(
    client, operator, lockout_settings, caplog
):
    caplog.set_level(logging.WARNING, logger="axes")
    fail_until_locked(client)
    lockouts = [r for r in caplog.records if "Locking out" in r.getMessage()]
    assert len(lockouts) == 1
    assert lockouts[0].levelno == logging.WARNING
    assert ATTACKER in lockouts[0].getMessage()
    assert USERNAME not in caplog.text  # masked: people type passwords into that box
    assert "wrong" not in caplog.text


def test_the_lockout_lasts_the_cool_off_then_ends(client, operator, lockout_settings):
    fail_until_locked(client)
    # Time travel in the data: the failures happened just under the cool-off ago ...
    AccessAttempt.objects.update(attempt_time=timezone.now() - COOL_OFF + timedelta(seconds=5))
    assert is_locked_out(log_in(client, password=PASSWORD, address=ATTACKER))
    # ... and that refused try started the wait over; now move past all of it.
    AccessAttempt.objects.update(attempt_time=timezone.now() - COOL_OFF - timedelta(seconds=1))
    assert is_logged_in(log_in(client, password=PASSWORD, address=ATTACKER))


def test_operators_see_attempts_and_lockouts_in_the_admin(
    client, admin_client, operator, lockout_settings
):
    fail_until_locked(client)
    attempts = admin_client.get("/admin/axes/accessattempt/").content.decode()
    assert ATTACKER in attempts
    assert AccessFailureLog.objects.filter(ip_address=ATTACKER, locked_out=True).exists()
    assert ATTACKER in admin_client.get("/admin/axes/accessfailurelog/").content.decode()


def test_axes_reset_lifts_the_lockout(client, operator, lockout_settings):
    fail_until_locked(client)
    call_command("axes_reset", stdout=None)
    assert is_logged_in(log_in(client, password=PASSWORD, address=ATTACKER))


def test_behind_a_trusted_proxy_the_client_it_forwards_is_locked_out(
    client, operator, lockout_settings
):
    lockout_settings.WEATHER_TRUSTED_PROXIES = ["10.0.0.0/8"]
    proxy = "10.0.0.5"
    forwarded = {"HTTP_X_FORWARDED_FOR": ATTACKER}
    assert is_locked_out(fail_until_locked(client, address=proxy, **forwarded))
    # Another client behind the same proxy is someone else.
    behind = log_in(client, password=PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR=ELSEWHERE)
    assert is_logged_in(behind)
