"""Integration fixtures beyond the shared ones in tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import API_KEY
from tests.support.openbao import OpenBaoServer, seeded_openbao


@pytest.fixture
def own_openbao() -> Iterator[tuple[OpenBaoServer, str]]:
    """A server of the test's own, to stop or seal, holding the key; and the app's token."""
    with seeded_openbao(api_key=API_KEY) as server_and_token:
        yield server_and_token
