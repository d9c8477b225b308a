"""Sources are configured in config/regions/<name>.toml, checked at start-up."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from connectors.dokelio import DokelioConnector
from connectors.emfor import EmforConnector
from connectors.registry import check_sources, connector_class, known_connectors
from hub.errors import ConfigError
from hub.http import Fetcher
from hub.settings import FetchSettings, SourceSettings, load_settings, parse_duration

DOKELIO = """
connector = "dokelio"
region = "11"
url = "http://127.0.0.1:8101/v1"
token_env = "DOKELIO_TOKEN"
stale_after = "12h"

[schedule]
every = "2h"
jitter = "5m"

[options]
page_size = 50
"""


def config(tmp_path: Path, **regions: str) -> Path:
    (tmp_path / "regions").mkdir()
    for name, text in regions.items():
        (tmp_path / "regions" / f"{name}.toml").write_text(text, encoding="utf-8")
    hub = tmp_path / "hub.toml"
    hub.write_text('[regions]\ndir = "regions"\n', encoding="utf-8")
    return hub


def test_a_region_file_becomes_a_typed_source(tmp_path: Path) -> None:
    settings = load_settings(config(tmp_path, dokelio=DOKELIO))
    source = settings.sources["dokelio"]
    assert (source.connector, source.region, source.token_env) == ("dokelio", "11", "DOKELIO_TOKEN")
    assert source.schedule.every == timedelta(hours=2)
    assert source.schedule.jitter == timedelta(minutes=5)
    assert source.stale_after == timedelta(hours=12)
    assert source.file == tmp_path / "regions" / "dokelio.toml"
    check_sources(settings)


def test_the_embedded_default_configures_dokelio_and_emfor() -> None:
    settings = load_settings(Path(__file__).parents[2] / "config" / "hub.toml")
    assert {"dokelio", "emfor"} <= set(settings.sources)
    assert settings.simulators.enabled
    check_sources(settings)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (DOKELIO.replace('region = "11"', 'region = "IDF"'), "dokelio.toml: region"),
        (DOKELIO.replace('every = "2h"', 'every = "2h"\ncron = "0 3 * * *"'), "exactly one"),
        (DOKELIO.replace('"12h"', '"douze heures"'), "dokelio.toml: stale_after"),
        ('tokn_env = "X"\n' + DOKELIO, "dokelio.toml: tokn_env: Extra inputs"),
        (DOKELIO.replace('url = "http', 'url = "ftp'), "dokelio.toml: url"),
        ("connector = ", "dokelio.toml: invalid TOML"),
    ],
    ids=["region", "schedule", "duration", "unknown-key", "url", "toml"],
)
def test_errors_name_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(config(tmp_path, dokelio=text))


@pytest.mark.parametrize(
    ("written", "seconds"), [("90s", 90), ("15m", 900), ("6h", 21600), ("2d", 172800), (30, 30)]
)
def test_durations(written: object, seconds: int) -> None:
    assert parse_duration(written) == timedelta(seconds=seconds)


def test_secrets_come_only_from_the_named_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = load_settings(config(tmp_path, dokelio=DOKELIO)).sources["dokelio"]
    monkeypatch.delenv("DOKELIO_TOKEN", raising=False)
    with pytest.raises(ConfigError, match=r"dokelio.toml: token_env: .*DOKELIO_TOKEN is not set"):
        source.token()
    monkeypatch.setenv("DOKELIO_TOKEN", "s3cret")
    assert source.token() == "s3cret"


def test_connectors_are_found_by_entry_point() -> None:
    assert {"dokelio", "emfor"} <= set(known_connectors())
    assert connector_class("dokelio") is DokelioConnector
    assert connector_class("emfor") is EmforConnector


def test_an_unknown_connector_lists_the_known_ones(tmp_path: Path) -> None:
    settings = load_settings(config(tmp_path, idf=DOKELIO.replace('"dokelio"', '"dokeli0"')))
    with pytest.raises(ConfigError) as raised:
        check_sources(settings)
    message = str(raised.value)
    assert "idf.toml: connector: unknown connector 'dokeli0'" in message
    assert "known connectors:" in message and "dokelio" in message and "emfor" in message


def test_connector_options_are_checked_with_the_file_and_key() -> None:
    source = SourceSettings(
        name="dokelio",
        connector="dokelio",
        region="11",
        url="http://x/v1",
        options={"page_size": 0},
        file=Path("config/regions/dokelio.toml"),
    )
    fetcher = Fetcher(httpx.Client(), FetchSettings(), source="dokelio")
    with pytest.raises(ConfigError, match=r"dokelio.toml: options.page_size: .*greater than"):
        DokelioConnector(source, fetcher)
    without_url = source.model_copy(update={"url": None, "options": {}})
    with pytest.raises(ConfigError, match="url: the dokelio connector pulls"):
        DokelioConnector(without_url, fetcher)
