"""The JSON API's contract: the OpenAPI 3.1 document in ``openapi.json``, served as is.

One file, written by hand and kept true by tests rather than generated from the views:
every answer the API tests receive is checked against it (tests/support/openapi.py), and
``make contract-check`` has schemathesis ask the app under gunicorn what the document
allows and check each answer too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from weather.caching import Lazy

DOCUMENT_PATH = Path(__file__).resolve().parent / "openapi.json"


@dataclass(frozen=True)
class ApiDocument:
    body: bytes
    etag: str


def _read() -> ApiDocument:
    body = DOCUMENT_PATH.read_bytes()
    return ApiDocument(body=body, etag=f'"{hashlib.blake2b(body, digest_size=8).hexdigest()}"')


# Read once per process: it changes only with a release.
api_document: Lazy[ApiDocument] = Lazy(_read, name="openapi.document", cleared_by=())
