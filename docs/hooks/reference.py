"""The reference pages that are written from the code they describe, at build time.

A page holds a marker such as ``<!-- reference:settings -->``; ``on_page_markdown``
replaces it with what the code says now, so the manual cannot drift from it:

- ``settings``: every variable of ``weatherproject/environment.py``, by who reads it;
- ``make-targets``: the Makefile's ``## `` help comments, the lines ``make help`` prints;
- ``api``: ``weather/openapi.json``, the API's OpenAPI document, as tables and schemas;
- ``ci-steps``: the steps ``.ci/run`` lists in its header comment.

Everything is read from the repository; nothing needs the network. The functions that
write the Markdown take no mkdocs object, so the unit tests call them directly.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    # mkdocs loads hooks by path; the declaration is imported from the project itself.
    sys.path.insert(0, str(ROOT))

from weatherproject.environment import VARIABLES, Reader  # noqa: E402

MARKER = re.compile(r"<!-- reference:([a-z-]+) -->")
# The pattern the Makefile's help rule greps for: `name: ... ## description`.
HELP_LINE = re.compile(r"^([a-z0-9-]+):.*## (.*)$", re.M)


def cell(text: str) -> str:
    """``text`` made safe for one table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def settings_page() -> str:
    """A table per reader: name, type, default and meaning of every declared variable."""
    parts = []
    for reader in Reader:
        rows = [variable for variable in VARIABLES if variable.reader is reader]
        if not rows:
            continue
        parts.append(f"## {reader.value[0].upper()}{reader.value[1:]}\n")
        parts.append("| variable | type | default | meaning |\n|---|---|---|---|")
        for variable in rows:
            default = f"`{variable.default}`" if variable.default else "empty"
            if variable.default_note:
                default += f" ({cell(variable.default_note)})"
            parts.append(
                f"| `{variable.name}` | {variable.kind} | {cell(default)} | "
                f"{cell(variable.meaning)} |"
            )
        parts.append("")
    return "\n".join(parts)


def make_targets(makefile: str) -> list[tuple[str, str]]:
    """(target, help text) for each line ``make help`` prints, in the Makefile's order."""
    return HELP_LINE.findall(makefile)


def make_targets_page() -> str:
    rows = make_targets((ROOT / "Makefile").read_text(encoding="utf-8"))
    lines = ["| command | what it does |", "|---|---|"]
    lines += [f"| `make {target}` | {cell(text)} |" for target, text in rows]
    return "\n".join(lines) + "\n"


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """``node``, or what its ``$ref`` (a local JSON pointer) points at."""
    while "$ref" in node:
        found: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            found = found[part]
        node = found
    return node


def _schema_type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#schema-{name.lower()})"
    kind = schema.get("type", "")
    kind = " or ".join(kind) if isinstance(kind, list) else kind
    if "enum" in schema:
        kind += ": " + ", ".join(f"`{value}`" for value in schema["enum"])
    return kind or "any"


def api_page() -> str:
    """Each operation of weather/openapi.json with its parameters and answers, then its
    schemas; the document itself is served at /api/openapi.json."""
    document = json.loads((ROOT / "weather/openapi.json").read_text(encoding="utf-8"))
    info = document["info"]
    parts = [
        f"OpenAPI {document['openapi']}, *{info['title']}* version {info['version']}: "
        f"{info.get('summary', '')}\n",
        info.get("description", "") + "\n",
    ]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            parts.append(f"## `{method.upper()} {path}`\n")
            parts.append(f"**{operation.get('summary', '')}** {operation.get('description', '')}\n")
            parameters = [_resolve(document, p) for p in operation.get("parameters", [])]
            if parameters:
                parts.append("| parameter | in | required | type | description |")
                parts.append("|---|---|---|---|---|")
                for parameter in parameters:
                    parts.append(
                        f"| `{parameter['name']}` | {parameter['in']} | "
                        f"{'yes' if parameter.get('required') else 'no'} | "
                        f"{cell(_schema_type(parameter.get('schema', {})))} | "
                        f"{cell(parameter.get('description', ''))} |"
                    )
                parts.append("")
            parts.append("| status | meaning | headers | body |\n|---|---|---|---|")
            for status, answer in operation["responses"].items():
                answer = _resolve(document, answer)
                headers = ", ".join(f"`{name}`" for name in answer.get("headers", {}))
                bodies = []
                for media, content in answer.get("content", {}).items():
                    bodies.append(f"`{media}` {_schema_type(content.get('schema', {}))}")
                parts.append(
                    f"| {status} | {cell(answer.get('description', ''))} | {headers or '—'} | "
                    f"{cell(', '.join(bodies)) or '—'} |"
                )
            parts.append("")
    parts.append("## Headers\n\n| header | meaning |\n|---|---|")
    for name, header in document["components"].get("headers", {}).items():
        parts.append(f"| `{name}` | {cell(header.get('description', ''))} |")
    parts.append("\n## Schemas\n")
    for name, schema in document["components"]["schemas"].items():
        parts.append(f"### {name} {{ #schema-{name.lower()} }}\n")
        if "description" in schema:
            parts.append(schema["description"] + "\n")
        parts.append("```json\n" + json.dumps(schema, indent=2, ensure_ascii=False) + "\n```\n")
    return "\n".join(parts)


def ci_steps_page() -> str:
    """The numbered steps of .ci/run's header comment, as it says them."""
    lines = (ROOT / ".ci/run").read_text(encoding="utf-8").splitlines()
    start = lines.index("# What it runs, in order:") + 1
    steps = []
    for line in lines[start:]:
        if line.strip() == "#" or not line.startswith("#"):
            break
        steps.append(line.removeprefix("#").removeprefix(" "))
    return "```\n" + "\n".join(steps) + "\n```\n"


PAGES = {
    "settings": settings_page,
    "make-targets": make_targets_page,
    "api": api_page,
    "ci-steps": ci_steps_page,
}


def render(markdown: str) -> str:
    """``markdown`` with each reference marker replaced by its generated text."""

    def generated(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in PAGES:
            raise ValueError(f"no generated reference named {name!r}")
        return PAGES[name]()

    return MARKER.sub(generated, markdown)


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    """mkdocs hook: write the generated reference into each page that asks for it."""
    return render(markdown)
