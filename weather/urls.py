"""URLs of the weather app: the pages (``page_urls``, under a language prefix in the root
URLconf, since Django allows ``i18n_patterns`` only there) and the rest."""

from django.urls import path

from weather import views

app_name = "weather"

# Their own namespace: one namespace cannot span the prefixed and unprefixed halves.
page_urls = (
    [
        path("", views.dashboard, name="dashboard"),
        path("units", views.choose_units, name="units"),
    ],
    "pages",
)

urlpatterns = [
    path("api/weather", views.api_weather, name="api-weather"),
    path("api/places", views.api_places, name="api-places"),
    path("api/openapi.json", views.api_openapi, name="api-openapi"),
    path("robots.txt", views.robots_txt, name="robots-txt"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
]
