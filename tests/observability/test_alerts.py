"""The alert rules, the Grafana dashboard and the prometheus-operator objects: promtool
checks and unit-tests the rules, a real Prometheus loads them and runs every dashboard
query, and the Kubernetes objects match the operator's CRD schemas."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
import yaml

from tests.support.metrics import parse
from tests.support.processes import wait_until
from tests.support.prometheus import PrometheusServer, promtool

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "alerts.test.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "weather-dashboard.json"
MONITORING = ROOT / "deploy" / "kubernetes" / "monitoring"
METRIC_NAME = re.compile(r"\bweather_[a-z_]+\b")


def rule_groups() -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = yaml.safe_load(RULES.read_text())["groups"]
    return groups


def dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_promtool_accepts_the_rules():
    checked = promtool("check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_each_alert_fires_when_it_should_and_not_otherwise():
    tested = promtool("test", "rules", str(RULE_TESTS))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    alerts = {rule["alert"] for group in rule_groups() for rule in group["rules"]}
    covered = set(re.findall(r"alertname: (\w+)", RULE_TESTS.read_text()))
    assert covered == alerts


def test_the_rule_tests_catch_a_wrong_threshold(tmp_path):
    broken = tmp_path / "alerts.yml"
    broken.write_text(RULES.read_text().replace("> 0.25", "> 0.6"))
    (tmp_path / "alerts.test.yml").write_text(RULE_TESTS.read_text())
    assert promtool("test", "rules", str(tmp_path / "alerts.test.yml")).returncode != 0


def test_the_prometheus_rule_carries_the_same_groups():
    (rule,) = documents("prometheusrule.yaml")
    assert rule["spec"]["groups"] == rule_groups()


def documents(name: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((MONITORING / name).read_text()) if doc]


def crd_schema(name: str) -> dict[str, Any]:
    """The CRD's v1 schema, strict: a field it does not define is an error (as with
    `kubectl apply --validate=strict`), not silently pruned."""
    schema: dict[str, Any] = json.loads((MONITORING / "schemas" / f"{name}-v1.json").read_text())

    def close(node: Any) -> None:
        if isinstance(node, dict):
            if (
                node.get("type") == "object"
                and "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for child in node.values():
                close(child)
        elif isinstance(node, list):
            for child in node:
                close(child)

    close(schema)
    return schema


@pytest.mark.parametrize(
    ("name", "kind"),
    [("servicemonitor", "ServiceMonitor"), ("prometheusrule", "PrometheusRule")],
)
def test_the_operator_objects_match_its_crd_schemas(name, kind):
    (document,) = documents(f"{name}.yaml")
    assert document["apiVersion"] == "monitoring.coreos.com/v1"
    assert document["kind"] == kind
    # Draft 7 without checking the schema itself: the CRDs' patterns are Go regular
    # expressions (one has a (?i) Python reads differently), on fields not used here.
    validator = jsonschema.Draft7Validator(crd_schema(name))
    validator.validate(document)
    misspelt = copy.deepcopy(document)
    misspelt["spec"]["endpoint" if kind == "ServiceMonitor" else "group"] = []
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(misspelt)


def test_the_service_monitor_scrapes_the_web_service_s_port():
    (monitor,) = documents("servicemonitor.yaml")
    service = yaml.safe_load((ROOT / "deploy/kubernetes/base/service.yaml").read_text())
    (port,) = service["spec"]["ports"]
    assert [endpoint["port"] for endpoint in monitor["spec"]["endpoints"]] == [port["name"]]
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    assert monitor["spec"]["selector"]["matchLabels"] == service["spec"]["selector"]


def test_only_the_monitoring_namespace_may_reach_the_pods_for_metrics():
    policies = {
        doc["metadata"]["name"]: doc["spec"]
        for doc in yaml.safe_load_all(
            (ROOT / "deploy/kubernetes/base/networkpolicy.yaml").read_text()
        )
    }
    (rule,) = policies["weather-metrics"]["ingress"]
    (source,) = rule["from"]
    assert source["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "monitoring"
    }
    assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]


def test_prometheus_loads_the_rules_and_runs_every_dashboard_query(observed_app):
    observed_app.get("/api/weather", q="London")
    exposed = {name for name, _ in parse(observed_app.get("/metrics").text)}
    with PrometheusServer(
        target=f"127.0.0.1:{observed_app.port}", rule_files=(RULES,)
    ) as prometheus:
        wait_until(prometheus.targets_up, what="a first scrape", timeout=20)
        groups = requests.get(f"{prometheus.base_url}/api/v1/rules", timeout=10).json()
        loaded = [rule["name"] for g in groups["data"]["groups"] for rule in g["rules"]]
        assert loaded == [rule["alert"] for group in rule_groups() for rule in group["rules"]]
        assert all(rule["health"] == "ok" for g in groups["data"]["groups"] for rule in g["rules"])
        for query in dashboard_queries():
            # Grafana's own variable, which Prometheus does not know.
            prometheus.query(query.replace("$__rate_interval", "1m"))
    used = {
        name
        for text in [*dashboard_queries(), RULES.read_text()]
        for name in METRIC_NAME.findall(text)
    }
    missing = {name for name in used if not {name, f"{name}_total", f"{name}_count"} & exposed}
    assert missing == set()
