"""The Content-Security-Policy header, built once per process while a response asks for
nothing but the settings' own policy: ``CSPMiddleware``.

django-csp builds the header from ``CONTENT_SECURITY_POLICY`` for every response (the
policy, then the report-only one): about 0.13 ms of a cached view (bench/RESULTS.md),
though this site's policy only changes with its settings. Here the two headers are
built once and set exactly as django-csp sets them; any response that asks for more (a
nonce used, or a view's ``csp_update``/``csp_replace``/``csp`` decorator) and DEBUG's
exempt error pages go through django-csp's own code unchanged.
"""

from __future__ import annotations

import http.client as http_client

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as _DjangoCspMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from weather.caching import Lazy

# What a view's decorators leave on a response to change its policy (django-csp's names).
_PER_RESPONSE = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)
_DEBUG_EXEMPT = (http_client.INTERNAL_SERVER_ERROR, http_client.NOT_FOUND)

# (header, its value, the response attribute exempting from it, its excluded path prefixes)
Policy = tuple[str, str, str, tuple[str, ...]]


def _policies() -> tuple[Policy, ...]:
    built = []
    for header, report_only, exempt, setting in (
        (HEADER, False, "_csp_exempt", "CONTENT_SECURITY_POLICY"),
        (HEADER_REPORT_ONLY, True, "_csp_exempt_ro", "CONTENT_SECURITY_POLICY_REPORT_ONLY"),
    ):
        value = build_policy(report_only=report_only)
        if value:
            config = getattr(settings, setting, None) or {}
            prefixes = tuple(config.get("EXCLUDE_URL_PREFIXES", None) or ())
            built.append((header, value, exempt, prefixes))
    return tuple(built)


policies: Lazy[tuple[Policy, ...]] = Lazy(
    _policies, name="content_policy.policies", cleared_by=("CONTENT_SECURITY_POLICY",)
)
"""The settings' policy headers, built on first use (``policies()``)."""


class CSPMiddleware(_DjangoCspMiddleware):
    """django-csp's middleware, with the settings' own policy built once per process."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if (
            (settings.DEBUG and response.status_code in _DEBUG_EXEMPT)
            or getattr(request, "_csp_nonce", None) is not None
            or any(getattr(response, name, None) is not None for name in _PER_RESPONSE)
        ):
            return super().process_response(request, response)
        for header, value, exempt, prefixes in policies():
            if (
                header not in response
                and getattr(response, exempt, False) is False
                and not request.path_info.startswith(prefixes)
            ):
                response[header] = value
        # As django-csp does: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response
