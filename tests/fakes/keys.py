"""A key source for ``OpenWeatherClient`` (a ``KeySource``), without Vault."""

from __future__ import annotations

from weather.redaction import ApiKey


class FakeKeys:
    """Hands out keys in order: each ``invalidate()`` moves on to the next key, if any."""

    def __init__(self, *keys: str) -> None:
        self.keys = list(keys) or ["fake-owm-key"]
        self.invalidations = 0

    def get(self) -> ApiKey:
        return ApiKey(self.keys[0])

    def invalidate(self) -> None:
        self.invalidations += 1
        if len(self.keys) > 1:
            self.keys.pop(0)
