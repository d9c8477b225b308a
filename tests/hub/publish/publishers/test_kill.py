"""A delivery killed mid-way is resent by the next run: nothing skipped, nothing doubled."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lheo_factory import formation
from publishing import TOKEN_ENV, Hub, LiveReceiver, intercariforef
from sqlalchemy import select

from hub.publish.publishers.ledger import pending_delivery
from hub.store.tables import ATTEMPTS


def _config(tmp_path: Path, receiver: LiveReceiver) -> Path:
    (tmp_path / "publishers").mkdir()
    (tmp_path / "publishers" / "intercariforef.toml").write_text(
        f'publisher = "intercariforef"\ndestination = "{receiver.url}"\n'
        f'token_env = "{TOKEN_ENV}"\n',
        encoding="utf-8",
    )
    config = tmp_path / "hub.toml"
    config.write_text(
        f'[publishing]\nspool_dir = "{tmp_path / "spool"}"\n[fetch]\nread_timeout = 60.0\n',
        encoding="utf-8",
    )
    return config


@pytest.mark.slow
def test_a_killed_delivery_is_resent_and_the_partner_ends_exact(
    hub: Hub, receiver: LiveReceiver, database_url: str, tmp_path: Path
) -> None:
    hub.load([formation("F1"), formation("F2"), formation("F3")])
    receiver.fail("lost-ack")  # the partner applies it; the killed process never hears back
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("hub")), "publish", "intercariforef",
         "--config", str(_config(tmp_path, receiver))],
        env={**os.environ, "HUB_DATABASE_URL": database_url},
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "stderr.txt").open("w"),
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not (receiver.deliveries and receiver.in_flight == 1):
        said = (tmp_path / "stderr.txt").read_text()
        assert time.monotonic() < deadline and process.poll() is None, f"no delivery: {said}"
        time.sleep(0.02)
    process.kill()
    process.wait()
    receiver.release()

    killed = pending_delivery(hub.store.engine, "intercariforef")
    assert killed is not None and killed.files[0].path.is_file()
    hub.load([formation("F4")], deletions=("F2",))

    resent = hub.run(intercariforef(receiver))
    assert (resent.outcome, resent.resent, resent.delivery_id) == ("acknowledged", True, killed.id)
    assert [r.delivery for r in receiver.deliveries] == [killed.id]  # applied once
    assert receiver.deliveries[0].sha256 == killed.files[0].sha256
    assert hub.run(intercariforef(receiver)).kind == "delta"
    assert receiver.offer() == hub.offer()
    with hub.store.engine.connect() as connection:
        outcomes = list(
            connection.execute(select(ATTEMPTS.c.outcome).order_by(ATTEMPTS.c.id)).scalars()
        )
    assert outcomes == ["interrupted", "acknowledged", "acknowledged"]
