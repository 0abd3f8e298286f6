"""The project's URLs plus /bench/floor: a bare view through the same middleware stack."""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path

FLOOR_BODY = {"status": "ok", "note": "a constant body: what Django alone costs here"}


def floor(request: HttpRequest) -> JsonResponse:
    return JsonResponse(FLOOR_BODY)


urlpatterns = [
    path("bench/floor", floor),
    path("", include("weatherproject.urls")),
]
