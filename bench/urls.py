"""The project's URLs plus /bench/floor: a bare view through the same middleware stack,
reading one row from the database, as the simplest real Django view does."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from weather.models import Place
from weatherproject.urls import urlpatterns as project_urlpatterns


def floor(request: HttpRequest) -> JsonResponse:
    row = Place.objects.order_by("pk").values("pk", "name").first()
    return JsonResponse({"status": "ok", "row": row})


# The project's own list, not include(): Django allows i18n_patterns (the pages in each
# language) only in the root URLconf.
urlpatterns = [path("bench/floor", floor), *project_urlpatterns]
