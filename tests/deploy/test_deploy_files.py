"""The deployment files, checked by reading them (Docker is not needed to run this).

compose.yaml, the Dockerfile, the systemd unit, the Prometheus and Grafana provisioning,
and the example production configuration: each parsed and held to what production needs
(health checks, a non-root user, secrets from the environment, the hub's real metrics).
"""

from __future__ import annotations

import configparser
import json
import re
from pathlib import Path
from typing import Any

import yaml

from connectors.registry import check_sources
from hub.ops import metrics
from hub.ops.scheduler import schedules
from hub.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
METRIC = re.compile(r"\b(hub_[a-z_]+)")


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def test_compose_runs_the_hub_postgres_prometheus_and_grafana_each_with_a_healthcheck() -> None:
    services = compose()["services"]
    assert set(services) == {"hub", "postgres", "prometheus", "grafana"}
    for name, service in services.items():
        check = service.get("healthcheck", {})
        assert check.get("test"), f"{name} has no healthcheck"
        assert service.get("restart") == "unless-stopped", name
    hub = services["hub"]
    assert hub["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "/readyz" in " ".join(hub["healthcheck"]["test"])
    build = hub["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    assert hub["environment"]["HUB_DATABASE_URL"].startswith("postgresql+psycopg://")


def test_compose_takes_secrets_from_the_environment_and_mounts_files_that_exist() -> None:
    services = compose()["services"]
    for service in services.values():
        for key, value in (service.get("environment") or {}).items():
            if any(word in key for word in ("PASSWORD", "TOKEN")):
                assert str(value).startswith("${") and ":?" in str(value), key
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), volume
    prometheus = " ".join(services["prometheus"]["volumes"])
    assert "./prometheus:/etc/prometheus" in prometheus


def dockerfile() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in (raw.strip() for raw in text.splitlines())
        if line and not line.startswith("#")
    ]


def test_the_image_is_slim_runs_as_non_root_and_serves_the_hub() -> None:
    instructions = dockerfile()
    stages = [args for op, args in instructions if op == "FROM"]
    assert stages and all(stage.split()[0] == "python:3.11-slim" for stage in stages)
    last_stage = max(i for i, (op, _) in enumerate(instructions) if op == "FROM")
    users = [args for op, args in instructions[last_stage:] if op == "USER"]
    assert users, "the final stage must switch to a user"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    assert any(op == "HEALTHCHECK" and "/readyz" in args for op, args in instructions)
    [cmd] = [json.loads(args) for op, args in instructions if op == "CMD"]
    assert cmd[:2] == ["hub", "serve"]
    for op, args in instructions:
        if op == "COPY" and "--from" not in args:
            for source in args.split()[:-1]:
                assert (REPO / source).exists(), source


def test_the_systemd_unit_runs_hub_serve_as_its_own_user() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DEPLOY / "systemd" / "lheo-hub.service")
    service = unit["Service"]
    assert service["User"] not in ("root", "0")
    assert service["ExecStart"].endswith("/hub serve")
    assert service["ExecStartPre"].endswith("/hub migrate")
    assert service["Restart"] == "on-failure" and service["NoNewPrivileges"] == "yes"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_the_example_production_config_is_valid_and_schedules_every_source() -> None:
    settings = load_settings(DEPLOY / "config" / "hub.toml")
    check_sources(settings)
    assert settings.logging.format == "json" and settings.scheduler.enabled
    assert not settings.simulators.enabled
    assert settings.store.database_url.startswith("postgresql")
    assert sorted(slot.source for slot in schedules(settings)) == sorted(settings.sources)
    for source in settings.sources.values():
        assert source.url and not source.url.startswith("http://127.0.0.1")


def grafana_dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (DEPLOY / "grafana" / "dashboards" / "lheo-hub.json").read_text()
    )
    return loaded


def dashboard_exprs() -> list[str]:
    return [t["expr"] for p in grafana_dashboard()["panels"] for t in p["targets"]]


def test_grafana_is_provisioned_with_the_datasource_the_dashboard_uses() -> None:
    provisioning = DEPLOY / "grafana" / "provisioning"
    [source] = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())[
        "datasources"
    ]
    [provider] = yaml.safe_load((provisioning / "dashboards" / "lheo-hub.yml").read_text())[
        "providers"
    ]
    mounts = compose()["services"]["grafana"]["volumes"]
    assert f"./grafana/dashboards:{provider['options']['path']}:ro" in mounts
    assert source["url"] == "http://prometheus:9090"
    dashboard = grafana_dashboard()
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    for panel in panels:
        assert panel["datasource"]["uid"] == source["uid"] and panel["targets"]
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"])


def test_every_metric_the_dashboard_queries_exists_and_every_one_is_charted() -> None:
    known = set(metrics.METRIC_NAMES)
    queried = set()
    for expr in dashboard_exprs():
        for name in METRIC.findall(expr):
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            assert name in known or base in known, f"{name} is not a metric of the hub"
            queried.add(name if name in known else base)
    assert known - queried == set(), f"not charted: {sorted(known - queried)}"


def test_prometheus_scrapes_the_job_the_rules_name() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    [job] = config["scrape_configs"]
    assert job["job_name"] == "lheo-hub" and job["metrics_path"] == "/metrics"
    for rule_file in config["rule_files"]:
        assert (DEPLOY / "prometheus" / rule_file).is_file()
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    names = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    assert {"HubSourceStale", "HubRejectionRateSpike", "HubSyncFailing"} <= names
