"""The Hypothesis settings every property test here shares: reproducible, no deadline."""

from __future__ import annotations

from hypothesis import HealthCheck, settings


def bounded(examples: int) -> settings:
    """``examples`` derandomized examples (the same inputs on every run), no example database,
    no deadline (CI machines are shared), big inputs allowed."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
