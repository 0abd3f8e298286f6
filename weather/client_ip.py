"""Who is asking: the client's address, believed from a proxy only if it is trusted.

A client is the peer address of the connection (``REMOTE_ADDR``) unless that peer is
one of ``WEATHER_TRUSTED_PROXIES`` (addresses or networks: the load balancer, the
ingress, the reverse proxy); only then is ``X-Forwarded-For`` read, from the right,
skipping the trusted hops, and only then is ``X-Forwarded-Proto`` believed
(``weather.middleware.TrustedProxyMiddleware`` drops it from anyone else, so Django's
``SECURE_PROXY_SSL_HEADER`` cannot be fed by a client).

The allowance key groups IPv6 clients by their /64, which one subscriber usually
holds whole: otherwise one machine could be a million clients.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from weather.caching import Lazy, Memo

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _trusted_from_settings() -> tuple[Network, ...]:
    return tuple(
        ipaddress.ip_network(item, strict=False) for item in settings.WEATHER_TRUSTED_PROXIES
    )


trusted_proxies: Lazy[tuple[Network, ...]] = Lazy(
    _trusted_from_settings, name="client_ip.trusted_proxies", cleared_by=("WEATHER_TRUSTED_",)
)
"""The networks whose forwarding headers are believed (WEATHER_TRUSTED_PROXIES)."""


def forget_untrusted_proto(meta: dict[str, Any]) -> None:
    """Drop X-Forwarded-Proto from ``meta`` (a request's) unless its peer is a trusted
    proxy: only then may it make the request count as HTTPS."""
    if not is_trusted_proxy(meta.get("REMOTE_ADDR", "")):
        meta.pop("HTTP_X_FORWARDED_PROTO", None)


def is_trusted_proxy(address: str) -> bool:
    networks = trusted_proxies()
    if not networks:
        return False  # no address to parse: asked up to three times per request
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(request: HttpRequest) -> str:
    """The address of the client this request comes from, as far as it can be known."""
    peer: str = request.META.get("REMOTE_ADDR", "")
    if not is_trusted_proxy(peer):
        return peer
    forwarded: str = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    # The rightmost hops were added by our own proxies; the first one that is not is the
    # client as our outermost proxy saw it. Anything left of it the client could write.
    for hop in reversed(hops):
        if not is_trusted_proxy(hop):
            return hop if _is_address(hop) else peer
    return peer


def client_key(request: HttpRequest) -> str:
    """The client's address as allowances count it: IPv6 by its /64."""
    return _keys(client_address(request))


def _key_of(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


# Parsing the address took a twentieth of a kept answer's time, on every view.
_keys: Memo[str, str] = Memo(_key_of, name="client_ip.keys", max_entries=4096, cleared_by=())


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
