"""The upstream call budget: per-minute and per-day caps shared by every worker.

Each upstream HTTP request spends one unit before it is sent. Spending is one
conditional ``UPDATE ... SET calls = calls + 1 WHERE calls < cap`` per window, which
the database applies atomically, so concurrent workers can never overshoot a cap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from weather.clients.openweather import BudgetExhausted
from weather.models import UpstreamUsage

Window = UpstreamUsage.Window


@dataclass(frozen=True)
class Cap:
    window: str
    started_at: datetime
    length: timedelta
    limit: int


def _caps(now: datetime) -> list[Cap]:
    minute = now.replace(second=0, microsecond=0)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return [
        Cap(Window.MINUTE, minute, timedelta(minutes=1), int(settings.WEATHER_BUDGET_PER_MINUTE)),
        Cap(Window.DAY, day, timedelta(days=1), int(settings.WEATHER_BUDGET_PER_DAY)),
    ]


def _row(cap: Cap) -> None:
    if UpstreamUsage.objects.filter(window=cap.window, started_at=cap.started_at).exists():
        return
    try:
        with transaction.atomic():
            UpstreamUsage.objects.create(window=cap.window, started_at=cap.started_at)
    except IntegrityError:
        pass  # another worker created it first


class UpstreamBudget:
    """Spend upstream calls against the shared caps; refuse with BudgetExhausted when spent."""

    def spend(self) -> None:
        """Spend one call in every window, or none at all."""
        now = timezone.now()
        spent: list[Cap] = []
        for cap in _caps(now):
            _row(cap)
            rows = UpstreamUsage.objects.filter(
                window=cap.window, started_at=cap.started_at, calls__lt=cap.limit
            )
            if rows.update(calls=F("calls") + 1):
                spent.append(cap)
                continue
            for earlier in spent:  # give back what this attempt took from smaller windows
                UpstreamUsage.objects.filter(
                    window=earlier.window, started_at=earlier.started_at
                ).update(calls=F("calls") - 1)
            UpstreamUsage.objects.filter(window=cap.window, started_at=cap.started_at).update(
                refused=F("refused") + 1
            )
            retry_after = (cap.started_at + cap.length - now).total_seconds()
            raise BudgetExhausted(
                f"The upstream budget of {cap.limit} calls per {cap.window} is spent",
                retry_after=max(1, math.ceil(retry_after)),
            )


def calls_today(now: datetime | None = None) -> int:
    """Upstream calls spent so far today (UTC)."""
    day = _caps(now or timezone.now())[1]
    row = UpstreamUsage.objects.filter(window=Window.DAY, started_at=day.started_at).first()
    return row.calls if row else 0


def purge_minutes_before(cutoff: datetime) -> int:
    """Delete per-minute rows older than ``cutoff``; days are kept for the record."""
    deleted, _ = UpstreamUsage.objects.filter(window=Window.MINUTE, started_at__lt=cutoff).delete()
    return deleted


def total_calls() -> int:
    return UpstreamUsage.objects.filter(window=Window.DAY).aggregate(n=Sum("calls"))["n"] or 0
