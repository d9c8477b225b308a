"""How big the suite runs: quick in ``make test``, full in ``make reliability``.

``HUB_RELIABILITY=full`` (set by ``make reliability``) selects the full sizes; anything
else, the quick ones.
"""

from __future__ import annotations

import os
from typing import TypeVar

MODE = "full" if os.environ.get("HUB_RELIABILITY", "quick") == "full" else "quick"
FULL = MODE == "full"
T = TypeVar("T")


def scale(quick: T, full: T) -> T:
    """The quick value in ``make test``, the full one in ``make reliability``."""
    return full if FULL else quick
