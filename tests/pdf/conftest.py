"""The PDF edition's test (``make pdf``) runs only when ``tests/pdf`` is named on the command line:
it needs the single-page build and the printed PDF, which the unit stage does not make."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def pytest_ignore_collect(collection_path, config):
    for arg in config.args:
        target = Path(str(arg).split("::")[0]).resolve()
        if target == HERE or HERE in target.parents:
            return None
    return True
