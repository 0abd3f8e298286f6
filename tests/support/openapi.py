"""Every API answer a test receives, checked against the API's OpenAPI document.

The document (weather/openapi.json) is the contract clients read; this is what keeps it
true. ``ContractClient`` is Django's test client with one addition: an answer from a
documented path must have a documented status, content type, required headers and a
body that validates against the documented schema (JSON Schema 2020-12, the dialect of
OpenAPI 3.1). A method the document does not list must be refused with 405.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.test import Client
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from weather.openapi import DOCUMENT_PATH

_BASE = "urn:weather-api"


class Contract:
    """The document, with what it takes to check an answer against it."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.paths: Mapping[str, Mapping[str, Any]] = document["paths"]
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(_BASE, resource)

    def _resolve(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in node:
            node = self._registry.resolver(_BASE).lookup(node["$ref"]).contents
        return node

    def problems(
        self,
        *,
        path: str,
        method: str,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
    ) -> list[str]:
        """What is wrong with an answer, by the document (empty when nothing is)."""
        where = f"{method} {path} → {status}"
        operations = self.paths[path]
        operation = operations.get("get" if method == "HEAD" else method.lower())
        if operation is None:
            return [] if status == 405 else [f"{where}: an undocumented method must get 405"]
        documented = operation["responses"].get(str(status))
        if documented is None:
            return [f"{where}: status {status} is not documented"]
        response = self._resolve(documented)
        found = []
        for name, header in response.get("headers", {}).items():
            if self._resolve(header).get("required") and name not in headers:
                found.append(f"{where}: the required header {name} is missing")
        content = response.get("content")
        if not content:
            if body:
                found.append(f"{where}: a body where the document says there is none")
            return found
        content_type = headers.get("Content-Type", "").split(";")[0].strip()
        if content_type not in content:
            return [*found, f"{where}: content type {content_type!r} is not documented"]
        if method == "HEAD":
            return found
        validator = Draft202012Validator(
            _anchored(content[content_type]["schema"]),
            registry=self._registry,
            format_checker=FormatChecker(),
        )
        errors = sorted(
            validator.iter_errors(json.loads(body)), key=lambda error: list(error.absolute_path)
        )
        found += [f"{where}: {list(e.absolute_path)}: {e.message}" for e in errors[:5]]
        return found


def _anchored(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` with its relative ``$ref``s (``#/components/...``) made absolute."""
    anchored: dict[str, Any] = json.loads(json.dumps(schema).replace('"#/', f'"{_BASE}#/'))
    return anchored


CONTRACT = Contract(json.loads(DOCUMENT_PATH.read_text()))


class ContractClient(Client):
    """Django's test client; every answer from a documented path is checked."""

    def request(self, **request: Any) -> Any:
        response = super().request(**request)
        path = request["PATH_INFO"]
        if path in CONTRACT.paths:
            problems = CONTRACT.problems(
                path=path,
                method=request["REQUEST_METHOD"],
                status=response.status_code,
                headers=response.headers,
                body=b"" if response.streaming else response.content,
            )
            assert not problems, "the answer breaks the API document:\n" + "\n".join(problems)
        return response
