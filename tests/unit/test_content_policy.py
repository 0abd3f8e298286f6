"""The Content-Security-Policy header built once per process: the same header django-csp
builds, and django-csp's own behaviour whenever a response asks for more than the settings."""

from __future__ import annotations

import pytest
from csp.constants import HEADER, HEADER_REPORT_ONLY, NONCE, SELF
from csp.exceptions import CSPNonceError
from csp.utils import build_policy
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from weather.content_policy import CSPMiddleware

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/api/weather?q=", "/robots.txt", "/no-such-page"])
def test_every_answer_has_the_policy_django_csp_builds(client, path):
    response = client.get(path)
    assert response[HEADER] == build_policy()
    assert "default-src 'self'" in response[HEADER]
    assert HEADER_REPORT_ONLY not in response


def test_a_changed_policy_is_seen_at_once(client, settings):
    client.get("/robots.txt")
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": [SELF, "https://a.test"]}}
    assert client.get("/robots.txt")[HEADER] == "default-src 'self' https://a.test"


def test_a_report_only_policy_is_sent_beside_the_policy(client, settings):
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"img-src": [SELF]}}
    response = client.get("/robots.txt")
    assert response[HEADER_REPORT_ONLY] == build_policy(report_only=True)
    assert "img-src 'self'" in response[HEADER_REPORT_ONLY]
    assert response[HEADER] == build_policy()


def test_excluded_prefixes_get_no_header(client, settings):
    settings.CONTENT_SECURITY_POLICY = {
        "EXCLUDE_URL_PREFIXES": ["/robots"],
        "DIRECTIVES": {"default-src": [SELF]},
    }
    assert HEADER not in client.get("/robots.txt")
    assert HEADER in client.get("/favicon.ico")


def _through_middleware(
    response: HttpResponse, *, use_nonce: bool = False
) -> tuple[HttpRequest, HttpResponse]:
    request = RequestFactory().get("/")
    nonces: list[str] = []

    def view(req: HttpRequest) -> HttpResponse:
        if use_nonce:
            nonces.append(str(req.csp_nonce))  # type: ignore[attr-defined]
        return response

    answered = CSPMiddleware(view)(request)
    assert isinstance(answered, HttpResponse)
    if nonces:
        assert f"'nonce-{nonces[0]}'" in answered[HEADER]
    return request, answered


def test_a_views_own_update_is_applied():
    response = HttpResponse()
    response._csp_update = {"img-src": ["https://tiles.test"]}  # type: ignore[attr-defined]
    _, answered = _through_middleware(response)
    assert "https://tiles.test" in answered[HEADER]


def test_an_exempt_response_gets_no_header():
    response = HttpResponse()
    response._csp_exempt = True  # type: ignore[attr-defined]
    _, answered = _through_middleware(response)
    assert HEADER not in answered


def test_a_header_the_view_set_is_kept():
    response = HttpResponse()
    response[HEADER] = "default-src 'none'"
    _, answered = _through_middleware(response)
    assert answered[HEADER] == "default-src 'none'"


def test_a_nonce_used_by_the_view_is_in_the_header(settings):
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"script-src": [SELF, NONCE]}}
    _, answered = _through_middleware(HttpResponse(), use_nonce=True)
    assert "script-src 'self' 'nonce-" in answered[HEADER]


def test_a_nonce_asked_for_after_the_header_is_an_error():
    request, _ = _through_middleware(HttpResponse())
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)  # type: ignore[attr-defined]
