"""A database outage becomes a clear 503, whatever the view."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, OperationalError
from django.http import HttpResponse
from django.test import RequestFactory

from weather.middleware import DatabaseUnavailableMiddleware


@pytest.mark.parametrize(
    ("path", "content_type"), [("/", "text/html"), ("/api/weather", "application/json")]
)
def test_database_outage_is_a_503_with_a_clear_message(path, content_type):
    middleware = DatabaseUnavailableMiddleware(lambda request: HttpResponse())
    request = RequestFactory().get(path)
    response = middleware.process_exception(request, OperationalError("connection refused"))
    assert response is not None
    assert response.status_code == 503
    assert response["Content-Type"].startswith(content_type)
    assert response["Retry-After"] == "30"
    assert b"database is not answering" in response.content


def test_integrity_errors_are_not_disguised_as_outages():
    middleware = DatabaseUnavailableMiddleware(lambda request: HttpResponse())
    request = RequestFactory().get("/")
    assert middleware.process_exception(request, IntegrityError("duplicate")) is None
