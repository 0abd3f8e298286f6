"""Template context shared by every page."""

from django.conf import settings
from django.http import HttpRequest


def demo_mode(request: HttpRequest) -> dict[str, bool]:
    """Tell templates whether the data comes from the bundled fake upstream."""
    return {"demo_mode": settings.WEATHER_DEMO_MODE}
