"""The manual says what the code does: its reference pages cover every make target, metric,
log field and module, the generated pages hold what their sources hold, and the README
stays a first screen that points into it."""

from __future__ import annotations

import ast
import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType

import pytest

from weather import jsonlog
from weatherproject.environment import VARIABLES

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
METRIC_TYPES = {
    "Counter",
    "Gauge",
    "Histogram",
    "Summary",
    "Info",
    "Enum",
    "CounterMetricFamily",
    "GaugeMetricFamily",
    "HistogramMetricFamily",
    "SummaryMetricFamily",
}


def load_hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_reference", DOCS / "hooks/reference.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HOOK = load_hook()


def page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def code_spans(markdown: str) -> set[str]:
    return set(re.findall(r"`([^`\n]+)`", markdown))


def app_modules() -> list[Path]:
    return sorted(
        path
        for path in (ROOT / "weather").rglob("*.py")
        if path.name != "__init__.py" and "migrations" not in path.parts
    )


# --- make targets ------------------------------------------------------------------------


def phony_targets(makefile: str) -> set[str]:
    """The targets the Makefile declares .PHONY: the commands, not files."""
    found = re.search(r"^\.PHONY:((?:.*\\\n)*.*)$", makefile, re.M)
    assert found, "the Makefile has no .PHONY line"
    return set(found.group(1).replace("\\\n", " ").split())


def targets_without_help(makefile: str) -> set[str]:
    described = {target for target, _ in HOOK.make_targets(makefile)}
    return phony_targets(makefile) - described


def test_every_make_command_has_help_text():
    assert targets_without_help((ROOT / "Makefile").read_text()) == set()


def test_a_make_command_without_help_text_is_found():
    makefile = ".PHONY: help quiet\nhelp: ## List the targets\n\t@true\nquiet:\n\t@true\n"
    assert targets_without_help(makefile) == {"quiet"}


def test_the_make_targets_page_lists_what_make_help_prints():
    written = HOOK.render(page("reference/make-targets.md"))
    for target, text in HOOK.make_targets((ROOT / "Makefile").read_text()):
        assert f"| `make {target}` | {HOOK.cell(text)} |" in written


# --- settings ------------------------------------------------------------------------------


def test_the_settings_page_lists_every_declared_variable():
    written = HOOK.render(page("reference/settings.md"))
    assert "<!-- reference:" not in written
    for variable in VARIABLES:
        assert f"| `{variable.name}` | {variable.kind} |" in written


# --- the API ---------------------------------------------------------------------------------


def test_the_api_page_shows_every_operation_status_and_schema():
    document = json.loads((ROOT / "weather/openapi.json").read_text())
    written = HOOK.render(page("reference/api.md"))
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            section = written.split(f"## `{method.upper()} {path}`", 1)[1].split("\n## ", 1)[0]
            for status in operation["responses"]:
                assert f"\n| {status} |" in section, f"{method} {path}: {status}"
    for schema in document["components"]["schemas"]:
        assert f"### {schema} {{ #schema-{schema.lower()} }}" in written


def test_an_unknown_reference_marker_fails_the_build():
    with pytest.raises(ValueError, match="no generated reference"):
        HOOK.render("<!-- reference:nothing-by-this-name -->")


def test_the_ci_steps_are_those_ci_run_runs():
    written = HOOK.render(page("explanation/verification.md"))
    sections = re.findall(r'^section "(.+)"$', (ROOT / ".ci/run").read_text(), re.M)
    assert sections
    for section in sections:
        assert section in written


# --- metrics and log fields ------------------------------------------------------------------


def metric_names(source: str) -> set[str]:
    """The names of the Prometheus metrics ``source`` defines."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            first = node.args[0]
            if called in METRIC_TYPES and isinstance(first, ast.Constant):
                names.add(str(first.value))
    return names


def defined_metrics() -> set[str]:
    return set().union(*(metric_names(path.read_text()) for path in app_modules()))


def test_every_metric_the_app_defines_is_documented():
    found = defined_metrics()
    assert "weather_reports_total" in found
    documented = code_spans(page("reference/metrics-and-logs.md"))
    assert sorted(found - documented) == []


def test_every_documented_metric_exists():
    documented = {
        span
        for span in code_spans(page("reference/metrics-and-logs.md"))
        if re.fullmatch(r"weather_[a-z_]+", span)
    }
    assert sorted(documented - defined_metrics()) == []


def test_the_metric_scanner_finds_each_kind_of_definition():
    source = (
        'Counter("a_total", "x", ["l"])\nprometheus_client.Gauge("b", "y")\n'
        'GaugeMetricFamily("c", "z", labels=[])\nprint("not_a_metric")\n'
    )
    assert metric_names(source) == {"a_total", "b", "c"}


def extra_fields(source: str) -> set[str]:
    """The keys of the ``extra`` dicts ``source`` passes to loggers (``extra={...}``, or
    a dict assigned to a name ``extra``), nested ``**{...}`` included."""
    fields: set[str] = set()
    extras: list[ast.AST] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.keyword) and node.arg != "extra":
            continue
        if isinstance(node, ast.Assign) and not any(
            isinstance(target, ast.Name) and target.id == "extra" for target in node.targets
        ):
            continue
        if isinstance(node, (ast.keyword, ast.Assign)):
            extras.append(node.value)
    for extra in extras:
        for inner in ast.walk(extra):
            if isinstance(inner, ast.Dict):
                fields |= {
                    key.value
                    for key in inner.keys
                    if isinstance(key, ast.Constant) and isinstance(key.value, str)
                }
    return fields


def log_fields() -> set[str]:
    """Every field a JSON log line can carry: the formatter's own and every extra."""
    sources = [*app_modules(), ROOT / "weatherproject/gunicorn_config.py"]
    extras = set().union(*(extra_fields(path.read_text()) for path in sources))
    return set(jsonlog.OWN_FIELDS) | {"request_id", "exc_info"} | extras


def test_every_json_log_field_is_documented():
    fields = log_fields()
    assert {"endpoint", "remote_addr", "level"} <= fields
    logs = page("reference/metrics-and-logs.md").split("**Logs**", 1)[1].split("\n**", 1)[0]
    assert sorted(fields - code_spans(logs)) == []


def test_the_log_field_scanner_finds_every_extra():
    source = (
        'log.info("x", extra={"a": 1, **({"b": 2} if c else {})})\n'
        'extra = {"d": 1}\nlog.info("y", extra=extra)\n'
    )
    assert extra_fields(source) == {"a", "b", "d"}


# --- layout ----------------------------------------------------------------------------------


def test_the_layout_names_every_module_of_the_app():
    layout = page("reference/layout.md")
    missing = [str(path.relative_to(ROOT)) for path in app_modules() if path.name not in layout]
    assert missing == []


# --- the README -----------------------------------------------------------------------------


def test_the_readme_is_a_first_screen_that_points_into_the_manual():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 150
    for command in ("make run", "make test", "docker compose up", "kubectl apply -k", "make docs"):
        assert command in readme
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme) + re.findall(r'src="([^"]+)"', readme)
    assert any(link.startswith("docs/") for link in links)
    broken = [link for link in links if "://" not in link and not (ROOT / link).exists()]
    assert broken == []
