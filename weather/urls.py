"""URLs of the weather app."""

from django.urls import path

from weather import views

app_name = "weather"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("units", views.choose_units, name="units"),
    path("api/weather", views.api_weather, name="api-weather"),
    path("api/places", views.api_places, name="api-places"),
    path("api/openapi.json", views.api_openapi, name="api-openapi"),
    path("robots.txt", views.robots_txt, name="robots-txt"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
]
