"""The archive volume fills up: the flow is refused before anything is applied.

The hub archives each flow before it reads it. On a 1 MiB tmpfs with 64 KiB left, a push
whose archive needs more is refused with a 507 problem that says so; nothing of it is
applied or left half-written; once space is freed, the same push goes in.
"""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from lheo_factory import document, formation

from tests.reliability.crash import SOURCE, push, running_hub
from tests.reliability.offer import flow_statuses, live_state, store_digest
from tests.reliability.report import Tally


@contextmanager
def small_volume(folder: Path, size: str = "1m") -> Iterator[Path]:
    """A tmpfs of ``size`` at ``folder``: a disk that really fills up."""
    folder.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs (run as root): {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_full_disk_refuses_the_flow_before_anything_is_applied(
    tmp_path: Path, figures: Tally
) -> None:
    with (
        small_volume(tmp_path / "volume") as volume,
        running_hub("postgresql", tmp_path / "hub", archive_dir=volume / "archive") as (hub, token),
    ):
        assert push(hub, token, document([formation("DISK-1")])).is_success
        filler = volume / "filler"
        free = os.statvfs(volume).f_bavail * os.statvfs(volume).f_frsize
        filler.write_bytes(b"\0" * (free - 64 * 1024))
        # Random text compresses badly: about 600 KB of gzip for 64 KB of room.
        noise = base64.b64encode(secrets.token_bytes(600 * 1024)).decode()  # no "--" in it
        body = document([formation("DISK-2"), formation("DISK-3")]).replace(
            b"</offres>", f"<!-- {noise} --></offres>".encode()
        )
        before = store_digest(hub.store.engine)
        refused = push(hub, token, body)
        assert refused.status_code == 507, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert "archive" in refused.json()["detail"].lower() and refused.json()["hint"]
        assert store_digest(hub.store.engine) == before
        assert flow_statuses(hub.store.engine, SOURCE) == ["applied"], "no flow recorded"
        assert not list(volume.rglob("*.partial")), "no half-written archive left behind"
        filler.unlink()
        accepted = push(hub, token, body)
        assert accepted.status_code == 200 and accepted.json()["counts"]["created"] == 2
        figures.records(
            "disk full", {(SOURCE, f"DISK-{i}") for i in (1, 2, 3)}, live_state(hub.store.engine)
        )
    figures.count("faults", "disk full: while archiving")
