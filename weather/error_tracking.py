"""Error tracking with Sentry, off unless ``SENTRY_DSN`` is set.

sentry-sdk's Django integration reports unhandled exceptions and ERROR log lines, with
each frame's local variables. Sentry's own scrubber knows names like ``password`` but
not OpenWeather's ``appid``, and a frame that builds the upstream request holds the
key in clear; ``before_send`` therefore masks every string of every event
(``weather.redaction.mask``: each key read so far, and any ``appid=`` value) before it
leaves the process. No personal data is sent (``send_default_pii`` off) and no traces.
"""

from __future__ import annotations

from typing import Any

import sentry_sdk
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.integrations.logging import LoggingIntegration

from weather.redaction import mask


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {_masked(key): _masked(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_masked(item) for item in value]
    return value


def before_send(event: Any, hint: Any) -> Any:
    """The event with the key masked in every string it holds."""
    return _masked(event)


def start(*, dsn: str, environment: str, release: str) -> None:
    """Report errors to the Sentry project of ``dsn`` from now on."""
    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        release=release or None,
        integrations=[DjangoIntegration(), LoggingIntegration()],
        before_send=before_send,
        before_breadcrumb=lambda crumb, hint: _masked(crumb),
        send_default_pii=False,
        traces_sample_rate=0.0,
    )
