"""Who is asking: the client's address, believed from a proxy only if it is trusted.

A client is the peer address of the connection (``REMOTE_ADDR``) unless that peer is
one of ``WEATHER_TRUSTED_PROXIES`` (addresses or networks: the load balancer, the
ingress, the reverse proxy); only then is ``X-Forwarded-For`` read, from the right,
skipping the trusted hops, and only then is ``X-Forwarded-Proto`` believed
(``TrustedProxyMiddleware`` drops it from anyone else, so Django's
``SECURE_PROXY_SSL_HEADER`` cannot be fed by a client).

The allowance key groups IPv6 clients by their /64, which one subscriber usually
holds whole: otherwise one machine could be a million clients.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def trusted_proxies() -> tuple[Network, ...]:
    """The networks whose forwarding headers are believed (WEATHER_TRUSTED_PROXIES)."""
    return tuple(
        ipaddress.ip_network(item, strict=False) for item in settings.WEATHER_TRUSTED_PROXIES
    )


@receiver(setting_changed)
def _reset_on_settings_change(*, setting: str, **kwargs: object) -> None:
    if setting == "WEATHER_TRUSTED_PROXIES":
        trusted_proxies.cache_clear()


def _is_trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in trusted_proxies())


def client_address(request: HttpRequest) -> str:
    """The address of the client this request comes from, as far as it can be known."""
    peer: str = request.META.get("REMOTE_ADDR", "")
    if not _is_trusted(peer):
        return peer
    forwarded: str = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    # The rightmost hops were added by our own proxies; the first one that is not is the
    # client as our outermost proxy saw it. Anything left of it the client could write.
    for hop in reversed(hops):
        if not _is_trusted(hop):
            return hop if _is_address(hop) else peer
    return peer


def client_key(request: HttpRequest) -> str:
    """The client's address as allowances count it: IPv6 by its /64."""
    address = client_address(request)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class TrustedProxyMiddleware:
    """Drop X-Forwarded-Proto unless the peer is a trusted proxy (before SecurityMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not _is_trusted(request.META.get("REMOTE_ADDR", "")):
            request.META.pop("HTTP_X_FORWARDED_PROTO", None)
        return self.get_response(request)
