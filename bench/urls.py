"""The project's URLs plus /bench/floor: a bare view through the same middleware stack,
reading one row from the database, as the simplest real Django view does."""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from weather.models import Place


def floor(request: HttpRequest) -> JsonResponse:
    row = Place.objects.order_by("pk").values("pk", "name").first()
    return JsonResponse({"status": "ok", "row": row})


urlpatterns = [
    path("bench/floor", floor),
    path("", include("weatherproject.urls")),
]
