"""A chapter notebook in JupyterLab with jupyterlab-myst (system Chromium, no network but 127.0.0.1).

Readers also open the book's notebooks in JupyterLab, where jupyterlab-myst renders the Markdown
cells as MyST. This test starts the venv's JupyterLab on 127.0.0.1 over the repository (or
``BOOK_SOURCE_DIR``) with throw-away settings, workspaces, runtime and checkpoint folders (the
user's own are neither read nor written; autosave is off, so nothing in the repository changes),
opens ``chapters/cnn.ipynb`` unexecuted (``BOOK_LAB_NOTEBOOKS``: other chapters, or ``all``) and
checks what its Markdown cells show:

- every Markdown cell is rendered and no MyST syntax is left as text: no role (``{cite}`...```,
  ``{eq}`...```, ...), no directive fence, no target ``(label)=``, no ``$$`` or ``$...$``,
  no "Unknown Directive" box;
- every display equation is typeset (by KaTeX, which jupyterlab-myst uses) with no TeX error, and
  each labelled equation and each ``{eq}`` reference to it carries the number the book gives it
  (the book numbers labelled equations only, jupyterlab-myst every display equation);
- every ``{exercise}`` is an exercise box, and the Chinese quotations are there;
- no request leaves 127.0.0.1 (browser performance log; the server's proxies point at a closed
  local port, news and update checks are off) and the console shows no error but
  jupyterlab-myst's own warnings.

What jupyterlab-myst cannot show as the book does is recorded, not asserted, in
``jupyterlab-cnn.json`` beside the screenshot ``jupyterlab-cnn.png`` (``_build/screenshots/``):
``{glue:text}`` roles show their key and format (nothing is executed), ``{cite}`` shows the key
with a "Citation Not Found" mark (no bibliography), ``{term}`` (the glossary), ``{doc}`` and
``{eq}`` into other chapters do not resolve. The built book (``_build/html``) is not needed.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The book's sources (served as JupyterLab's root): this repository unless BOOK_SOURCE_DIR says.
SOURCE = Path(os.environ.get("BOOK_SOURCE_DIR", ROOT)).resolve()
# The chapters opened: cnn (equations, citations, glue, exercises, the Chinese quotation) unless
# BOOK_LAB_NOTEBOOKS names others (comma-separated paths relative to the sources) or is "all".
_NOTEBOOKS = os.environ.get("BOOK_LAB_NOTEBOOKS", "chapters/cnn.ipynb").strip()
NOTEBOOKS = (sorted(p.relative_to(SOURCE).as_posix() for p in (SOURCE / "chapters").glob("*.ipynb"))
             if _NOTEBOOKS == "all" else [n.strip() for n in _NOTEBOOKS.split(",") if n.strip()])
TIMEOUT = 60  # s, for the server to answer and for the notebook to render
MAX_SHOT_HEIGHT = 16000  # px; Chromium cannot capture much more in one image
BROWSER_INTERNAL = {"data", "blob", "about", "javascript", "chrome", "chrome-extension",
                    "chrome-untrusted", "devtools"}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}

# JupyterLab settings for the test session (written as user settings into a temporary folder).
LAB_SETTINGS = {
    # Attach every cell to the page: JupyterLab 4 otherwise renders cells out of view lazily.
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    # No "official Jupyter news?" question and no update check (both would fetch from the web).
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    # Opening marks a notebook as changed (kernel metadata); never write it back.
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/extensionmanager-extension/plugin": {"enabled": False},
}

# Roles, directive fences, targets and math delimiters as MyST source text.
RAW_MYST = {
    "role": re.compile(r"\{[A-Za-z][\w:.-]*\}`"),
    "directive fence": re.compile(r"(^|\n)\s*(`{3,}|:{3,})\s*\{"),
    "target": re.compile(r"(^|\n)\s*\([\w:.-]+\)=\s*(\n|$)"),
    "display math delimiter": re.compile(r"\$\$"),
    "inline math": re.compile(r"(?<![\\$])\$[^$\n]+\$"),
    "LaTeX environment": re.compile(r"\\begin\{"),
}
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]+")

STATE = r"""
const path = arguments[0];
const app = window.jupyterapp;
const panel = app && app.shell.currentWidget;
if (!panel || !panel.context || panel.context.path !== path || !panel.context.isReady) return null;
const md = panel.content.widgets.filter(c => c.model.type === 'markdown');
const rendered = md.filter(c => {
  const out = c.node.querySelector('.myst');
  return c.rendered && out && out.childElementCount > 0;
});
const html = md.map(c => (c.node.querySelector('.myst') || {innerHTML: ''}).innerHTML);
return {markdown: md.length, rendered: rendered.length,
        signature: html.reduce((n, h) => n + h.length, 0) + ':' + document.querySelectorAll('.katex').length};
"""

COLLECT = r"""
const panel = window.jupyterapp.shell.currentWidget;
const md = panel.content.widgets.filter(c => c.model.type === 'markdown');
const outs = md.map(c => c.node.querySelector('.myst')).filter(Boolean);
const all = sel => outs.flatMap(o => Array.from(o.querySelectorAll(sel)));
const text = o => {  // the prose as shown: typeset math (which keeps its TeX source) removed
  const copy = o.cloneNode(true);
  copy.querySelectorAll('.katex').forEach(k => k.replaceWith(' '));
  return copy.textContent;
};
const equations = {};
for (const a of all('a[title="Link to this Equation"]')) {
  const id = a.getAttribute('href').slice(1);
  equations[id] = a.textContent.trim();
}
return {
  texts: outs.map(text),
  display_math: all('.katex-display').length,
  inline_math: all('.katex').length - all('.katex-display .katex').length,
  // TeX that KaTeX cannot typeset: jupyterlab-myst shows the source with the error as a title.
  math_errors: all('.katex-error, .text-yellow-600[title], .text-red-500[title], pre[title]')
    .filter(e => !/^(Citation|Cross Reference) Not Found$/.test(e.getAttribute('title')))
    .map(e => (e.getAttribute('title') || '').split('\n')[0]),
  equations: equations,
  links: all('a.hover-link').map(a => ({href: a.getAttribute('href'), text: a.textContent.trim()})),
  exercises: all('aside.myst-exercise .myst-exercise-title').map(e => e.textContent.trim()),
  unknown_directives: all('.myst-exercise-title').map(e => e.textContent.trim())
    .filter(t => /Unknown Directive/.test(t)),
  citations_not_found: all('[title="Citation Not Found"]').map(e => e.textContent.trim()),
  xrefs_not_found: all('[title="Cross Reference Not Found"]').map(e => e.textContent.trim()),
  doc_links: all('a.link').map(a => ({href: a.getAttribute('href').split('?')[0], text: a.textContent.trim()})),
  plain_spans: all('p > span:not([class]):not([data-state])').filter(s => !s.children.length)
    .map(s => s.textContent),
};
"""


def _markdown_sources(notebook: Path) -> list[str]:
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]


def _book_equation_numbers(sources: list[str]) -> dict[str, int]:
    """Label -> number in the book: Sphinx numbers labelled display equations only, in order."""
    labels = []
    pattern = re.compile(r"^\$\$.*?^\$\$[ \t]*\(([\w:.-]+)\)[ \t]*$|^(?:`{3,}|:{3,})\{math\}[^\n]*\n"
                         r"(?:[ \t]*:[\w-]+:[^\n]*\n)*?[ \t]*:label:[ \t]*([\w:.-]+)", re.M | re.S)
    for source in sources:
        labels += [m.group(1) or m.group(2) for m in pattern.finditer(source)]
    return {label: i + 1 for i, label in enumerate(labels)}


def _n_display_math(sources: list[str]) -> int:
    n = 0
    for source in sources:
        n += len(re.findall(r"^\$\$", source, re.M)) // 2
        n += len(re.findall(r"^(?:`{3,}|:{3,})\{math\}", source, re.M))
    return n


def _drain(driver, kind):
    try:
        return driver.get_log(kind)
    except Exception:  # noqa: BLE001 - a driver without that log simply has nothing to report
        return []


def _outside_requests(perf_entries) -> list[str]:
    outside = set()
    for entry in perf_entries:
        msg = json.loads(entry["message"])["message"]
        params = msg.get("params", {})
        if msg.get("method") == "Network.requestWillBeSent":
            url = params["request"]["url"]
        elif msg.get("method") == "Network.webSocketCreated":
            url = params["url"]
        else:
            continue
        parts = urlsplit(url)
        if parts.scheme not in BROWSER_INTERNAL and parts.hostname not in LOOPBACK:
            outside.add(url)
    return sorted(outside)


def _opener():
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))  # ignore *_proxy variables


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """The venv's JupyterLab on 127.0.0.1 over the repository, with throw-away configuration."""
    try:
        import jupyterlab_myst  # noqa: F401
    except ImportError:
        pytest.fail("jupyterlab-myst is not installed: pip install -r requirements.txt (make setup)")
    tmp = tmp_path_factory.mktemp("jupyterlab")
    settings = tmp / "settings"
    for plugin, values in LAB_SETTINGS.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")
    runtime = tmp / "runtime"
    closed = "http://127.0.0.1:9"  # a server-side fetch from the web fails at once
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp / "config"), JUPYTER_DATA_DIR=str(tmp / "data"),
               JUPYTER_RUNTIME_DIR=str(runtime), IPYTHONDIR=str(tmp / "ipython"),
               HTTP_PROXY=closed, HTTPS_PROXY=closed, http_proxy=closed, https_proxy=closed,
               NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    token = secrets.token_hex(24)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser",
           "--ServerApp.ip=127.0.0.1", "--ServerApp.port=0", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={SOURCE}",
           f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
           f"--FileCheckpoints.checkpoint_dir={tmp / 'checkpoints'}",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.news_url=",
           "--LabApp.extension_manager=readonly", "--LabApp.expose_app_in_browser=True"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log_path = tmp / "server.log"
    log = log_path.open("w", encoding="utf-8")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def server_log():
        return log_path.read_text(encoding="utf-8", errors="replace")[-4000:]

    try:
        info_file = runtime / f"jpserver-{proc.pid}.json"
        deadline = time.monotonic() + TIMEOUT
        url = None
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited with {proc.returncode}:\n{server_log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"jupyter lab did not answer within {TIMEOUT} s:\n{server_log()}")
            if url is None and info_file.is_file():
                try:
                    url = json.loads(info_file.read_text(encoding="utf-8"))["url"].rstrip("/")
                except (ValueError, KeyError):
                    url = None
            if url:
                try:
                    request = urllib.request.Request(f"{url}/api/status",
                                                     headers={"Authorization": f"token {token}"})
                    if _opener().open(request, timeout=5).status == 200:
                        break
                except (urllib.error.URLError, OSError):
                    pass
            time.sleep(0.2)
        yield {"url": url, "token": token, "log": server_log}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def lab_page(jupyterlab, driver):
    """Leaves JupyterLab after a test: no "leave page?" prompt, no kernel left running."""
    yield
    try:  # opening marks the notebook as changed (kernel metadata): unsaved, and never saved
        driver.execute_script("const p = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                              "if (p && p.content && p.content.model) p.content.model.dirty = false;")
    finally:
        driver.get("about:blank")
        _drain(driver, "browser")
        _drain(driver, "performance")
        auth = {"Authorization": f"token {jupyterlab['token']}"}
        try:
            sessions = json.load(_opener().open(
                urllib.request.Request(f"{jupyterlab['url']}/api/sessions", headers=auth), timeout=10))
            for session in sessions:
                _opener().open(urllib.request.Request(
                    f"{jupyterlab['url']}/api/sessions/{session['id']}", headers=auth, method="DELETE"),
                    timeout=30)
        except (urllib.error.URLError, OSError, ValueError):
            pass  # the server stops with the module anyway


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_chapter_prose_renders_in_jupyterlab(notebook, jupyterlab, driver, lab_shots, lab_page):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    shot, report_path = (lab_shots / f"jupyterlab-{Path(notebook).stem}.{ext}" for ext in ("png", "json"))
    shot.unlink(missing_ok=True)
    report_path.unlink(missing_ok=True)
    sources = _markdown_sources(SOURCE / notebook)
    _drain(driver, "browser")
    _drain(driver, "performance")
    # ?reset: a fresh workspace, so no notebook opened before is restored beside this one.
    driver.get(f"{jupyterlab['url']}/lab/tree/{notebook}?reset&token={jupyterlab['token']}")

    seen = {"state": None, "stable": 0}

    def rendered(drv):  # every Markdown cell rendered, and the rendering unchanged for 3 polls
        state = drv.execute_script(STATE, notebook)
        if not state or state["rendered"] < state["markdown"]:
            seen["stable"] = 0
        elif seen["state"] and state["signature"] == seen["state"]["signature"]:
            seen["stable"] += 1
        else:
            seen["stable"] = 0
        seen["state"] = state
        return seen["stable"] >= 3

    try:
        WebDriverWait(driver, TIMEOUT, poll_frequency=0.3).until(rendered)
    except TimeoutException:
        _shot(driver, shot)
        pytest.fail(f"{notebook} did not render in JupyterLab within {TIMEOUT} s "
                    f"(last state {seen['state']}); server log:\n{jupyterlab['log']()}")
    found = driver.execute_script(COLLECT)

    problems = []
    if seen["state"]["markdown"] != len(sources):
        problems.append(f"JupyterLab shows {seen['state']['markdown']} Markdown cells, the file has {len(sources)}")
    texts = found["texts"]
    for i, text in enumerate(texts):
        for what, pattern in RAW_MYST.items():
            for m in pattern.finditer(text):
                problems.append(f"Markdown cell {i}: raw MyST ({what}) shown: "
                                f"{text[max(0, m.start() - 40):m.end() + 40]!r}")
    problems += [f"unknown directive: {t}" for t in found["unknown_directives"]]

    # Math: every display equation typeset by KaTeX, no TeX error.
    n_display = _n_display_math(sources)
    if found["display_math"] != n_display:
        problems.append(f"{found['display_math']} display equations typeset, the source has {n_display}")
    problems += [f"TeX error: {e}" for e in found["math_errors"]]

    # Equation numbers as in the book, on the equations and on every {eq} reference.
    book = _book_equation_numbers(sources)
    renumbered = [f"{label} {found['equations'].get(label)} (book ({n}))" for label, n in book.items()
                  if found["equations"].get(label) != f"({n})"]
    if renumbered:
        problems.append(f"{len(renumbered)} equations numbered otherwise than in the book: "
                        + ", ".join(renumbered))
    unlabelled = sorted(set(found["equations"]) - set(book))
    if unlabelled:
        problems.append(f"{len(unlabelled)} unlabelled display equation(s) numbered by jupyterlab-myst "
                        f"({', '.join(found['equations'][u] for u in unlabelled)}) but not by the book: "
                        "give each a label, $$ ... $$ (label), so that the numbers agree")
    shown_refs: dict[str, set[str]] = {}
    for link in found["links"]:
        shown_refs.setdefault(link["href"].lstrip("#"), set()).add(link["text"])
    bad_refs = []
    eq_refs = sorted({lb for s in sources for lb in re.findall(r"\{eq\}`(?:[^`<]*<)?([^`<>]+)>?`", s)})
    for label in eq_refs:  # those to other chapters jupyterlab-myst cannot resolve: reported below
        if label in book and shown_refs.get(label) != {f"({book[label]})"}:
            bad_refs.append(f"{label} {sorted(shown_refs.get(label, []))} (book ({book[label]}))")
    if bad_refs:
        problems.append(f"{len(bad_refs)} {{eq}} references shown otherwise than in the book: "
                        + ", ".join(bad_refs))

    # Exercises and the Chinese quotation.
    n_exercises = sum(len(re.findall(r"^(?:`{3,}|:{3,})\{exercise\}", s, re.M)) for s in sources)
    exercises = [t for t in found["exercises"] if t.startswith("Exercise")]
    if len(exercises) != n_exercises:
        problems.append(f"{len(exercises)} exercise boxes, the source has {n_exercises}: {exercises}")
    prose = "\n".join(texts)
    for quote in sorted({q for s in sources for q in CJK.findall(s)}):
        if quote not in prose:
            problems.append(f"Chinese text missing: {quote!r}")

    # No request outside 127.0.0.1; no console error but jupyterlab-myst's own warnings.
    time.sleep(0.5)  # let late requests (fonts) reach the log
    outside = _outside_requests(_drain(driver, "performance"))
    problems += [f"request left 127.0.0.1: {u}" for u in outside]
    console = [e["message"] for e in _drain(driver, "browser") if e["level"] == "SEVERE"]
    myst_warnings = sorted({m for m in console if "/lab/extensions/jupyterlab-myst/" in m})
    problems += [f"console: {m}" for m in console if m not in myst_warnings]

    # What jupyterlab-myst shows where the book shows something else: recorded, not asserted.
    glue_keys = [k for s in sources for k in re.findall(r"\{glue(?::\w+)?\}`([^`]+)`", s)]
    plain = set(found["plain_spans"])
    report = {
        "notebook": notebook,
        "markdown_cells": len(sources),
        "display_equations": found["display_math"], "inline_math": found["inline_math"],
        "equation_numbers": found["equations"],
        "exercises": [t for t in found["exercises"] if t],
        "glue_roles_shown_as_key": sorted({k for k in glue_keys if k in plain}),
        "glue_roles_not_shown": sorted({k for k in glue_keys if k not in plain}),
        "citations_not_found": sorted(set(found["citations_not_found"])),
        "eq_references_to_other_chapters": sorted(set(eq_refs) - set(book)),
        "cross_references_not_found": sorted(set(found["xrefs_not_found"])),
        "unresolved_links": sorted({f"{link['text']} -> {link['href']}" for link in found["links"]
                                    if link["href"] == "#"}),
        "doc_links": sorted({f"{d['text']} -> {d['href']}" for d in found["doc_links"]}),
        "myst_console_warnings": myst_warnings,
        "outside_requests": outside,
        "problems": problems,
    }
    report_path.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    _shot(driver, shot)
    assert not problems, f"{notebook} in JupyterLab:\n  " + "\n  ".join(problems)


def _shot(driver, path: Path) -> None:
    """The notebook as far down as one image goes: the window made as tall as the notebook."""
    from selenium.webdriver.support.ui import WebDriverWait

    size = driver.get_window_size()
    panel_height = r"""
      const scroller = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer');
      return scroller ? [scroller.scrollHeight, scroller.clientHeight] : [0, 0];
    """
    try:
        driver.execute_script("window.jupyterapp && window.jupyterapp.shell.collapseLeft();")
        content, visible = driver.execute_script(panel_height)
        if content > visible:
            driver.set_window_size(size["width"], min(size["height"] + content - visible, MAX_SHOT_HEIGHT))
            WebDriverWait(driver, 10, poll_frequency=0.2).until(  # Lumino lays the panel out again
                lambda d: d.execute_script(panel_height)[1] > visible)
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
    finally:
        driver.set_window_size(size["width"], size["height"])
