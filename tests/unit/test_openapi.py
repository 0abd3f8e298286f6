"""The API's OpenAPI document: valid, served, and naming exactly what the API takes and says.

That every answer conforms is checked in every API test (tests/support/openapi.py); that
the app under gunicorn conforms for whatever the document allows, by schemathesis
(tests/contract, make contract-check).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import URLResolver, get_resolver
from openapi_spec_validator import validate

from tests.support.openapi import CONTRACT
from weather.errors import OpenWeatherError
from weather.forms import LanguageForm, PlaceSuggestionForm, WeatherQueryForm
from weather.middleware import DATABASE_UNAVAILABLE
from weather.openapi import DOCUMENT_PATH
from weather.vault.errors import VaultError

DOCUMENT = json.loads(DOCUMENT_PATH.read_text())


def _parameters(path: str) -> set[str]:
    names = set()
    for parameter in DOCUMENT["paths"][path]["get"]["parameters"]:
        if "$ref" in parameter:
            parameter = DOCUMENT["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
        if parameter["in"] == "query":
            names.add(parameter["name"])
    return names


def _subclasses(cls: type[Exception]) -> list[type[Any]]:
    return [cls, *(sub for direct in cls.__subclasses__() for sub in _subclasses(direct))]


def test_the_document_is_valid_openapi_3_1():
    validate(DOCUMENT)  # raises on any violation of the OpenAPI 3.1 schema
    assert DOCUMENT["openapi"].startswith("3.1.")


@pytest.mark.django_db
def test_the_app_serves_the_document_for_caches_to_keep(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == DOCUMENT
    assert "public" in response["Cache-Control"]
    again = client.get("/api/openapi.json", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_every_api_address_is_documented():
    app = get_resolver().url_patterns[-1]
    assert isinstance(app, URLResolver)
    addresses = {
        "/" + str(pattern.pattern)
        for pattern in app.url_patterns
        if str(pattern.pattern).startswith("api/")
    }
    assert addresses - {"/api/openapi.json"} == set(DOCUMENT["paths"])


def test_the_weather_parameters_are_the_forms_fields():
    fields = set(WeatherQueryForm.base_fields) | set(LanguageForm.base_fields)
    assert _parameters("/api/weather") == fields


def test_the_suggestion_parameters_are_the_forms_fields():
    assert _parameters("/api/places") == set(PlaceSuggestionForm.base_fields)


def test_the_documented_error_codes_are_the_ones_the_api_can_give():
    codes = {cls.code for cls in _subclasses(OpenWeatherError) + _subclasses(VaultError)}
    schema = DOCUMENT["components"]["schemas"]["Error"]["properties"]["error"]
    assert set(schema["properties"]["code"]["enum"]) == codes | {
        "invalid_input",
        DATABASE_UNAVAILABLE,
    }


@pytest.mark.parametrize(
    ("status", "body", "problem"),
    [
        (200, b'{"places": [{"name": "x"}]}', "'state' is a required property"),
        (418, b"{}", "status 418 is not documented"),
    ],
)
def test_the_contract_check_finds_what_breaks_the_document(status, body, problem):
    problems = CONTRACT.problems(
        path="/api/places",
        method="GET",
        status=status,
        headers={"Content-Type": "application/json"},
        body=body,
    )
    assert any(problem in found for found in problems), problems


def test_the_contract_check_wants_retry_after_when_the_document_requires_it():
    problems = CONTRACT.problems(
        path="/api/weather",
        method="GET",
        status=503,
        headers={"Content-Type": "application/json"},
        body=b'{"error": {"code": "upstream_unavailable", "message": "down"}}',
    )
    assert problems == ["GET /api/weather → 503: the required header Retry-After is missing"]
