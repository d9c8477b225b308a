"""The alert rules, run through ``promtool`` (Debian's prometheus package; .ci/run installs it).

- The rules and the Prometheus configuration pass ``promtool check``.
- The rules' unit tests (``alerts_test.yml``) pass ``promtool test rules``.
- Every Grafana query is valid PromQL (checked as recording rules).
- End to end: two simulated regions sync; one simulator is stopped; past its staleness
  threshold, what the hub's ``/metrics`` then says fires ``HubSourceStale`` for that
  source only.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import yaml
from live_server import serving
from prometheus_client.parser import text_string_to_metric_families
from simulated_hub import simulated_hub

from hub.store.models import utcnow

HERE = Path(__file__).resolve().parent
DEPLOY = HERE.parents[1] / "deploy"
RULES = DEPLOY / "prometheus" / "alerts.yml"
PROMTOOL = shutil.which("promtool")

pytestmark = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool is not installed (.ci/run installs it: apt-get install prometheus)",
)


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_the_rules_and_the_prometheus_config_are_valid() -> None:
    rules = promtool("check", "rules", str(RULES))
    assert rules.returncode == 0, rules.stdout + rules.stderr
    assert "SUCCESS: 5 rules found" in rules.stdout
    config = promtool("check", "config", str(DEPLOY / "prometheus" / "prometheus.yml"))
    assert config.returncode == 0, config.stdout + config.stderr


def test_the_rules_unit_tests_pass() -> None:
    result = promtool("test", "rules", str(HERE / "alerts_test.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_grafana_query_is_valid_promql(tmp_path: Path) -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "lheo-hub.json").read_text())
    records = [
        {"record": f"grafana:panel_{panel['id']}_{target['refId']}", "expr": target["expr"]}
        for panel in dashboard["panels"]
        for target in panel["targets"]
    ]
    rules = tmp_path / "grafana_queries.yml"
    rules.write_text(yaml.safe_dump({"groups": [{"name": "grafana", "rules": records}]}))
    result = promtool("check", "rules", str(rules))
    assert result.returncode == 0, result.stdout + result.stderr


def health_series(metrics_text: str) -> list[dict[str, str]]:
    """The hub's per-source gauges as constant promtool input series (instance hub-1)."""
    series = []
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if not sample.name.startswith("hub_source_"):
                continue
            labels = {**sample.labels, "instance": "hub-1", "job": "lheo-hub"}
            selector = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
            series.append(
                {"series": f"{sample.name}{{{selector}}}", "values": f"{sample.value}x30"}
            )
    return series


def test_stopping_a_simulator_fires_its_stale_alert_and_only_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    stale = {"dokelio": "12h", "emfor": "1h"}
    with simulated_hub(tmp_path, url, monkeypatch, stale_after=stale) as hub:
        for name in ("dokelio", "emfor"):
            assert hub.sync(name).outcome == "success"
        hub.stop("emfor")
        assert hub.sync("emfor").outcome == "failed"
        app = hub.app()
        app.state.clock = lambda: utcnow() + timedelta(hours=2)  # past emfor's 1 h
        with serving(app) as base:
            scraped = httpx.get(f"{base}/metrics").text
    tests = {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": health_series(scraped),
                "alert_rule_test": [
                    {
                        "eval_time": "10m",
                        "alertname": "HubSourceStale",
                        "exp_alerts": [
                            {
                                "exp_labels": {"severity": "critical", "source": "emfor"},
                                "exp_annotations": {
                                    "summary": "Source emfor is stale",
                                    "description": "No successful sync of emfor within its "
                                    "staleness threshold (stale_after in config/regions/"
                                    "emfor.toml); its row on the dashboard says why.",
                                },
                            }
                        ],
                    },
                    {"eval_time": "10m", "alertname": "HubSyncFailing", "exp_alerts": []},
                ],
            }
        ],
    }
    assert 'hub_source_stale{source="emfor"} 1.0' in scraped
    assert 'hub_source_stale{source="dokelio"} 0.0' in scraped
    test_file = tmp_path / "stopped_simulator_test.yml"
    test_file.write_text(yaml.safe_dump(tests, sort_keys=False))
    result = promtool("test", "rules", str(test_file))
    assert result.returncode == 0, result.stdout + result.stderr
