"""The one bounded spool: bytes copied into a temporary file, refused past a limit.

Small bodies stay in memory, larger ones go to disk, and a body that passes its limit is
refused as soon as it does, without reading the rest: for downloads, pushes, dropped files
and files taken out of archives alike.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from typing import IO

__all__ = ["SPOOL_IN_MEMORY", "spool"]

SPOOL_IN_MEMORY = 8 * 1024 * 1024
"""Bodies up to this size stay in memory; larger ones go to a temporary file."""


def spool(
    chunks: Iterable[bytes], limit: int, too_large: Callable[[int], BaseException]
) -> tuple[IO[bytes], int]:
    """The bytes of ``chunks`` in a spooled file (rewound) and their size.

    Raises ``too_large(size)`` once the size passes ``limit``; nothing is kept then.
    """
    body = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    size = 0
    try:
        for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise too_large(size)
            body.write(chunk)
    except BaseException:
        body.close()
        raise
    body.seek(0)
    return body, size
