"""Who is asking: the peer address, and forwarding headers only from trusted proxies."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from weather.client_ip import client_address, client_key

PROXY = "10.0.0.5"


def request(peer: str, forwarded_for: str = "", proto: str = ""):
    meta = {"REMOTE_ADDR": peer}
    if forwarded_for:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded_for
    if proto:
        meta["HTTP_X_FORWARDED_PROTO"] = proto
    made = RequestFactory().get("/")
    made.META.update(meta)
    return made


def test_without_trusted_proxies_the_peer_is_the_client_whatever_it_claims():
    assert client_address(request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


def test_behind_a_trusted_proxy_the_hop_before_it_is_the_client(settings):
    settings.WEATHER_TRUSTED_PROXIES = ["10.0.0.0/8"]
    # The client wrote 1.2.3.4 itself; our proxy appended the address it saw.
    assert client_address(request(PROXY, "1.2.3.4, 198.51.100.1")) == "198.51.100.1"
    # Two proxies of ours: skip both.
    assert client_address(request(PROXY, "198.51.100.1, 10.0.0.6")) == "198.51.100.1"
    # A proxy of ours with nothing to say, or garbage: the proxy itself.
    assert client_address(request(PROXY)) == PROXY
    assert client_address(request(PROXY, "not-an-address")) == PROXY


def test_an_untrusted_peer_cannot_pass_as_a_proxy(settings):
    settings.WEATHER_TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_address(request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.1", "192.0.2.1"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
    ],
)
def test_allowances_count_ipv6_clients_by_their_slash_64(address, key):
    assert client_key(request(address)) == key


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("trusted", "secure"), [([], False), (["127.0.0.1"], True)], ids=["anyone", "our proxy"]
)
def test_x_forwarded_proto_is_believed_only_from_a_trusted_proxy(client, settings, trusted, secure):
    settings.WEATHER_TRUSTED_PROXIES = trusted
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/robots.txt", headers={"X-Forwarded-Proto": "https"})
    # Believed: the request counts as HTTPS and is not redirected to it.
    assert (response.status_code != 301) is secure
