"""The one verification path of every dataset file: hashing, the error family, and a memo.

Introduced with :mod:`medtools.data.medmnist` in the chapter *A first look at medical images*
(``chapters/background``); :mod:`medtools.data.chase` (chapter ``segmentation``) uses the same
path. A file is hashed the first time it is used in a process; afterwards, while its size and
modification time are unchanged, the memo answers without reading it again.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["DataError", "file_digest", "matches"]


class DataError(RuntimeError):
    """A dataset file is unknown, missing, corrupt or unsafe. The message says how to fix it.

    Every dataset's errors belong to this family (:class:`medtools.data.chase.ChaseError` is a
    subclass), so ``except data.DataError`` catches a missing or altered file of any dataset.
    """


def file_digest(path: str | os.PathLike[str], algorithm: str = "md5", chunk: int = 1 << 20) -> str:
    """Hex digest of a file (``"md5"``, ``"sha256"``, or any name :func:`hashlib.new` knows), read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


# Files already verified in this process: path -> (size, mtime_ns, algorithm, digest).
_VERIFIED: dict[Path, tuple[int, int, str, str]] = {}


def matches(path: Path, expected: str, algorithm: str = "md5") -> bool:
    """Whether the file at ``path`` has the digest ``expected`` (hex, lower case).

    A match is remembered with the file's size and modification time; a file changed since
    (a different size or mtime) is hashed again. A mismatch is never remembered.
    """
    stat = path.stat()
    seen = (stat.st_size, stat.st_mtime_ns, algorithm, expected)
    if _VERIFIED.get(path) == seen:
        return True
    if file_digest(path, algorithm) != expected:
        return False
    _VERIFIED[path] = seen
    return True
