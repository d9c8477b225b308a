"""The environment of every process the benchmark starts: the caller's, minus its hub settings.

A caller who works with the hub often has ``HUB_DATABASE_URL`` (or ``HUB_ARCHIVE_DIR``,
``HUB_CONFIG``, ``HUB_MAPPINGS_DIR``...) exported; the hub reads them over any configuration
file, so a child that inherited them would write to the caller's database instead of the
bench's. Every child gets the caller's environment with each ``HUB_*`` variable removed and
only the bench's own set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

HUB_PREFIX = "HUB_"


def bench_env(own: Mapping[str, str] | None = None) -> dict[str, str]:
    """``os.environ`` without any ``HUB_*`` variable, plus ``own`` (the bench's settings)."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith(HUB_PREFIX)}
    return {**clean, **(own or {})}
