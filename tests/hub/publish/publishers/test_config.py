"""Partners are configured in TOML, checked at once, and found by entry point."""

from __future__ import annotations

from pathlib import Path

import pytest
from lheo_factory import formation
from publishing import Hub, partner
from sqlalchemy import select

from hub.errors import ConfigError
from hub.publish.publishers import (
    PublishContext,
    PublisherFilter,
    create_publisher,
    known_publishers,
    load_publishers,
    publisher_config,
)
from hub.publish.publishers.lheo import keeps_row
from hub.settings import Settings, load_settings
from hub.store.tables import FORMATIONS


def configured(tmp_path: Path, files: dict[str, str]) -> Settings:
    (tmp_path / "publishers").mkdir()
    for name, text in files.items():
        (tmp_path / "publishers" / f"{name}.toml").write_text(text, encoding="utf-8")
    config = tmp_path / "hub.toml"
    config.write_text('[publishing]\ndir = "publishers"\n', encoding="utf-8")
    return load_settings(config)


def test_partners_load_from_their_files_with_schedule_format_and_filter(tmp_path: Path) -> None:
    settings = configured(
        tmp_path,
        {
            "intercariforef": 'publisher = "intercariforef"\n'
            'destination = "https://icf.example/lheo"\ntoken_env = "ICF_TOKEN"\n'
            'schedule = { cron = "*/15 * * * *" }\nfull_every = "1d"\n',
            "carte": 'publisher = "languagemap"\ndestination = "var/carte"\nformat = "geojson"\n'
            '[filter]\nregions = ["11", "84"]\nlanguage_training = true\n',
        },
    )
    configs = load_publishers(settings)
    assert sorted(configs) == ["carte", "intercariforef"]
    assert configs["intercariforef"].full_every is not None
    assert configs["intercariforef"].full_every.total_seconds() == 86400
    assert configs["carte"].filter == PublisherFilter(regions=("11", "84"), language_training=True)
    assert known_publishers() == ["filedrop", "intercariforef", "languagemap", "opendata"]


def test_an_unknown_partner_or_publisher_names_the_known_ones(tmp_path: Path) -> None:
    settings = configured(tmp_path, {"carte": 'publisher = "geomap"\ndestination = "var/carte"\n'})
    with pytest.raises(ConfigError, match="unknown publisher 'pole'; configured publishers: carte"):
        publisher_config(settings, "pole")
    with pytest.raises(
        ConfigError, match="known publishers: filedrop, intercariforef, languagemap"
    ):
        create_publisher(publisher_config(settings, "carte"), PublishContext(settings))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"publisher": "intercariforef", "destination": "var/out"}, "posts to an http"),
        ({"publisher": "filedrop", "destination": "https://x.example"}, "writes to a folder"),
        (
            {"publisher": "opendata", "destination": "od", "format": "xlsx"},
            "writes csv, not 'xlsx'",
        ),
        (
            {"publisher": "opendata", "destination": "od", "options": {"colour": 1}},
            "options.colour",
        ),
    ],
)
def test_a_wrong_setting_is_refused_naming_the_key(fields: dict, message: str) -> None:
    config = partner("p", fields.pop("publisher"), fields.pop("destination"), **fields)
    with pytest.raises(ConfigError, match=message):
        create_publisher(config, PublishContext(Settings()))


def test_a_bad_file_is_refused_naming_the_file_and_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"bad\.toml: schedule: .*exactly one of cron or every"):
        configured(tmp_path, {"bad": 'publisher = "filedrop"\ndestination = "d"\nschedule = {}\n'})
        load_publishers(load_settings(tmp_path / "hub.toml"))


def test_a_missing_token_fails_the_run_with_the_variable_named(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HUB_NOT_SET_TOKEN", raising=False)
    hub.load([formation("F1")])
    config = partner(
        "icf", "intercariforef", "http://127.0.0.1:9/lheo", token_env="HUB_NOT_SET_TOKEN"
    )
    result = hub.run(config)
    assert result.outcome == "failed" and "HUB_NOT_SET_TOKEN is not set" in (result.error or "")


@pytest.mark.parametrize(
    "keep",
    [
        PublisherFilter(),
        PublisherFilter(regions=("11",)),
        PublisherFilter(sources=("bfc",), language_training=True),
        PublisherFilter(certifying=True),
    ],
)
def test_the_filter_says_the_same_in_sql_and_in_python(hub: Hub, keep: PublisherFilter) -> None:
    certifying = formation("C1").replace(
        "<certifiante>0</certifiante>", "<certifiante>1</certifiante>"
    )
    hub.load([formation("F1"), certifying], region="11")
    hub.load([formation("B1")], source="bfc", region="27")
    hub.load([], deletions=("F1",))
    f = FORMATIONS.c
    with hub.store.engine.connect() as connection:
        rows = connection.execute(
            select(f.numero, f.source, f.region, f.language_kind, f.certifiante, f.deleted)
        ).all()
        in_sql = set(
            connection.execute(
                select(f.numero).where(f.deleted.is_(False), keep.where(FORMATIONS))
            ).scalars()
        )
    assert {row.numero for row in rows if keeps_row(keep, row)} == in_sql
