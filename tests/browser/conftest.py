"""Fixtures of the real-browser test of the built book (``make browser``).

The test opens every page of the built HTML in system Chromium (headless, driven by
selenium through the system chromedriver), served by a local ``http.server`` on 127.0.0.1.
It is a stage of its own, after the book build: ``python -m pytest tests/browser``.
``python -m pytest tests`` (the unit stage) does not collect it (see
``pytest_ignore_collect`` in ``tests/conftest.py``), so unit tests never need a browser or a build.

Environment variables:

- ``BOOK_HTML_DIR``: the built book, default ``_build/html`` (relative to the repository root).
- ``BOOK_SCREENSHOTS_DIR``: where one screenshot per page goes, default ``screenshots``
  beside the HTML folder (``_build/screenshots`` for the default build).
- ``BOOK_SOURCE_DIR``: the book's sources (``_toc.yml``, ``_config.yml``), default this repository.
- ``CHROMIUM``, ``CHROMEDRIVER``: the browser and its driver, default ``/usr/bin/chromium``
  and ``/usr/bin/chromedriver`` (Debian packages ``chromium`` and ``chromium-driver``).
- ``BOOK_LAB_NOTEBOOKS``: the notebooks test_jupyterlab.py opens in JupyterLab (jupyterlab-myst),
  comma-separated, or ``all``; default ``chapters/cnn.ipynb``. That test needs no build.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def site_dir() -> Path:
    path = Path(os.environ.get("BOOK_HTML_DIR", "_build/html"))
    return path if path.is_absolute() else ROOT / path


def screenshots_dir() -> Path:
    env = os.environ.get("BOOK_SCREENSHOTS_DIR")
    if env:
        path = Path(env)
        return path if path.is_absolute() else ROOT / path
    return site_dir().parent / "screenshots"


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the book quietly and records (path, status) of every request."""

    log: list[tuple[str, int]]

    def log_request(self, code="-", size="-"):
        self.log.append((self.path, int(code) if str(code).isdigit() else 0))

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="session")
def site() -> Path:
    path = site_dir()
    if not (path / "index.html").is_file() or not (path / "searchindex.js").is_file():
        pytest.fail(f"no built book in {path}: run `make build` first (or set BOOK_HTML_DIR)")
    return path


@pytest.fixture(scope="session")
def server(site):
    """A background HTTP server on 127.0.0.1 (a free port), stopped after the session."""
    log: list[tuple[str, int]] = []
    handler = type("Handler", (_Handler,), {"log": log})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(site)))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, name="book-http", daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{httpd.server_address[1]}", "log": log}
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def driver():
    """Headless system Chromium with no network beyond 127.0.0.1.

    ``--proxy-server=127.0.0.1:9`` sends every non-loopback request to a closed port, so a
    page that needs the internet fails here (its requests are also logged and reported).
    """
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("selenium is not installed: pip install -r requirements.txt (make setup)")

    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    chromedriver = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
    for exe, package in ((chromium, "chromium"), (chromedriver, "chromium-driver")):
        if not shutil.which(exe):
            pytest.fail(f"{exe} not found: install it with `apt-get install {package}` (or set "
                        f"{'CHROMIUM' if package == 'chromium' else 'CHROMEDRIVER'})")

    # The book quotes its source article in Chinese: without CJK fonts the screenshots show boxes.
    if shutil.which("fc-list"):
        zh = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
        if not zh.strip():
            pytest.fail("no Chinese font: install one with `apt-get install fonts-noto-cjk`")

    profile = tempfile.mkdtemp(prefix="book-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 "--proxy-server=127.0.0.1:9", "--window-size=1280,900",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    drv = webdriver.Chrome(service=Service(chromedriver), options=options)
    drv.get("about:blank")  # let the browser's own start-up traffic finish before any page
    drv.set_page_load_timeout(120)
    drv.set_script_timeout(120)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def shots() -> Path:
    """The screenshot folder, emptied of the previous run's page screenshots and report.

    The JupyterLab test's files (``jupyterlab-*``, see ``lab_shots``) are left alone.
    """
    path = screenshots_dir()
    path.mkdir(parents=True, exist_ok=True)
    for old in [*path.rglob("*.png"), path / "report.json"]:
        if not old.name.startswith("jupyterlab-"):
            old.unlink(missing_ok=True)
    return path


@pytest.fixture(scope="session")
def lab_shots() -> Path:
    """The screenshot folder for test_jupyterlab.py, which replaces only its own ``jupyterlab-*`` files."""
    path = screenshots_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """One line per page checked in this session (from report.json, written by test_site.py)."""
    report_path = screenshots_dir() / "report.json"
    if not report_path.is_file() or report_path.stat().st_mtime < _SESSION_START[0]:
        return
    report = json.loads(report_path.read_text(encoding="utf-8"))
    write = terminalreporter.write_line
    terminalreporter.section("book pages in Chromium (no network but 127.0.0.1)")
    totals = {"pages": 0, "equations": 0, "typeset": 0, "images": 0, "outside": 0}
    for page, r in report.items():
        if page == "search":
            write(f"search {r['term']!r}: {len(r['hits'])} pages found: {', '.join(r['hits'])}")
            continue
        totals["pages"] += 1
        totals["equations"] += r["equations"]
        totals["typeset"] += r["typeset"]
        totals["images"] += r["images"]
        totals["outside"] += len(r["outside_requests"])
        write(f"{page:32} equations typeset {r['typeset']:4}/{r['equations']:<4} images {r['images']:3}  "
              f"outside requests {len(r['outside_requests'])}  problems {len(r['problems'])}")
    write(f"{totals['pages']} pages, {totals['typeset']}/{totals['equations']} equations typeset by MathJax "
          f"{next((r['mathjax'] for r in report.values() if r.get('mathjax')), '-')} from the build, "
          f"{totals['images']} images, {totals['outside']} requests outside 127.0.0.1; "
          f"screenshots in {screenshots_dir()}")


_SESSION_START = [float("inf")]


def pytest_sessionstart(session):
    _SESSION_START[0] = time.time() - 1
