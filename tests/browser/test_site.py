"""Every page of the built book in a real browser (system Chromium, no network but 127.0.0.1).

For each page of ``_toc.yml``: it loads with no console error, every image decodes, no local
file answers 4xx/5xx, no request leaves 127.0.0.1, MathJax (served from the build) has typeset
every equation, the download buttons are there and the repository/launch buttons are exactly
what ``_config.yml`` switches on, the footer carries the licence and "Not for clinical use", and
content images keep their grey levels in dark mode. The search page must find "Hounsfield" on
the DICOM chapter, the page that defines it. One
screenshot per page goes to ``_build/screenshots/`` with ``report.json`` (see conftest.py).
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# The book's sources (_toc.yml, _config.yml, notebooks): this repository unless BOOK_SOURCE_DIR says.
SOURCE = Path(os.environ.get("BOOK_SOURCE_DIR", ROOT)).resolve()
CONFIG = yaml.safe_load((SOURCE / "_config.yml").read_text(encoding="utf-8"))
# The placeholder repository of the unpublished book (see the comment in _config.yml).
PLACEHOLDER_REPO = "medtools-book/dl-medical-imaging"
SEARCH_TERM = "Hounsfield"
SEARCH_PAGE = "dicom.html"  # the chapter that defines the term must be among the hits
MAX_SHOT_HEIGHT = 16000  # px; Chromium cannot capture much more in one image

# Schemes the browser resolves itself (its own UI pages, inline data): never network requests.
BROWSER_INTERNAL = {"data", "blob", "about", "javascript", "chrome", "chrome-extension",
                    "chrome-untrusted", "devtools"}
# A browser asks the server root for /favicon.ico by itself when a page declares no icon;
# no page requests it, and on a real host it lies outside the book, so it is not checked.
FAVICON = "/favicon.ico"

REPORT: dict[str, dict] = {}


def toc_pages() -> list[str]:
    """Docnames of every page in the table of contents, in reading order."""
    toc = yaml.safe_load((SOURCE / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                pages.append(str(Path(node["file"]).with_suffix("")))
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key, []) or []:
                    walk(child)

    walk(toc)
    return pages


PAGES = toc_pages()


def _opener():
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))  # ignore *_proxy variables


def _drain(driver, kind):
    try:
        return driver.get_log(kind)
    except Exception:  # noqa: BLE001 - a driver without that log simply has nothing to report
        return []


def _network(perf_entries, base):
    """(outside requests, failed loads) from Chrome's performance log."""
    outside, failed = [], []
    urls = {}
    for entry in perf_entries:
        msg = json.loads(entry["message"])["message"]
        method, params = msg.get("method"), msg.get("params", {})
        if method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            urls[params["requestId"]] = url
            if urlsplit(url).scheme in BROWSER_INTERNAL or urlsplit(url).path == FAVICON:
                continue
            if not url.startswith(base + "/"):
                outside.append(url)
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            failed.append(f"{params.get('errorText')} {urls.get(params['requestId'], '?')}")
    return sorted(set(outside)), sorted(set(failed))


WAIT_FOR_MATHJAX = r"""
const done = arguments[arguments.length - 1];
const math = Array.from(document.querySelectorAll('div.math, span.math'));
const report = () => {
  const raw = [], untypeset = [];
  for (const el of math) {
    if (!el.querySelector('mjx-container')) untypeset.push(el.textContent.trim().slice(0, 80));
    const copy = el.cloneNode(true);
    copy.querySelectorAll('mjx-container').forEach(m => m.remove());
    if (/\$\$|\\\[|\\\(|\\begin\{/.test(copy.textContent)) raw.push(copy.textContent.trim().slice(0, 80));
  }
  return {
    version: window.MathJax && window.MathJax.version || null,
    script: Array.from(document.scripts).map(s => s.src).filter(s => /mathjax/i.test(s)),
    n_math: math.length,
    n_containers: document.querySelectorAll('mjx-container').length,
    untypeset: untypeset, raw: raw,
    errors: Array.from(document.querySelectorAll('mjx-merror, [data-mjx-error]'))
      .map(e => e.getAttribute('data-mjx-error') || e.textContent.slice(0, 80)),
  };
};
const hasScript = Array.from(document.scripts).some(s => /mathjax/i.test(s.src));
if (!math.length && !hasScript) { document.fonts.ready.then(() => done(report())); return; }
const t0 = Date.now();
(function wait() {
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) {
    mj.startup.promise.then(() => document.fonts.ready)
      .then(() => done(report()), e => done(Object.assign(report(), {failure: String(e)})));
  } else if (Date.now() - t0 > 15000) {  // the page has loaded: MathJax is there or failed
    done(Object.assign(report(), {failure: 'MathJax did not start within 15 s of the page load'}));
  } else {
    setTimeout(wait, 100);
  }
})();
"""

DECODE_IMAGES = r"""
const done = arguments[arguments.length - 1];
const imgs = Array.from(document.images);
imgs.forEach(i => { if (i.loading === 'lazy') i.loading = 'eager'; });
Promise.all(imgs.map(i => i.decode().then(() => null, () => null))).then(() => done(
  imgs.map(i => ({src: i.currentSrc || i.src, width: i.naturalWidth, complete: i.complete,
                  alt: i.getAttribute('alt')}))));
"""

DARK_MODE_FILTERS = r"""
const html = document.documentElement, before = html.dataset.theme;
html.dataset.theme = 'dark';
const out = Array.from(document.querySelectorAll('.bd-content img'))
  .filter(i => !i.classList.contains('only-dark') && !i.classList.contains('dark-light'))
  .map(i => ({src: i.currentSrc || i.src, filter: getComputedStyle(i).filter}));
html.dataset.theme = before;
return out;
"""


def _screenshot(driver, path: Path) -> None:
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], MAX_SHOT_HEIGHT),
            "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))


def _console_errors(driver):
    return [e["message"] for e in _drain(driver, "browser")
            if e["level"] == "SEVERE" and not (e.get("source") == "network" and FAVICON in e["message"])]


def _bad_responses(server, since):
    """Local files that answered 4xx/5xx, from the server's own log."""
    return sorted({f"{status} {path}" for path, status in server["log"][since:]
                   if status >= 400 and urlsplit(path).path != FAVICON})


def _load(driver, server, url):
    """Open url; return (console errors, outside requests, 4xx/5xx, failed loads, mathjax)."""
    _drain(driver, "browser")
    _drain(driver, "performance")
    n_served = len(server["log"])
    driver.get(url)
    mathjax = driver.execute_async_script(WAIT_FOR_MATHJAX)
    images = driver.execute_async_script(DECODE_IMAGES)
    time.sleep(0.5)  # let late requests (fonts, images) reach the logs
    console = _console_errors(driver)
    outside, failed = _network(_drain(driver, "performance"), server["url"])
    return console, outside, _bad_responses(server, n_served), failed, mathjax, images


def _write_report(shots: Path) -> None:
    path = shots / "report.json"
    path.write_text(json.dumps(REPORT, indent=1), encoding="utf-8")


def test_toc_pages_are_built(site):
    missing = [p for p in PAGES if not (site / f"{p}.html").is_file()]
    assert not missing, f"pages of _toc.yml missing from {site}: {missing}"


@pytest.mark.parametrize("page", PAGES)
def test_page(page, site, server, driver, shots):
    if not (site / f"{page}.html").is_file():
        pytest.skip(f"{page}.html not built (reported by test_toc_pages_are_built)")
    base = server["url"]
    console, outside, bad, failed, mathjax, images = _load(driver, server, f"{base}/{page}.html")
    problems = []
    problems += [f"console: {c}" for c in console]
    problems += [f"request left 127.0.0.1: {u}" for u in outside]
    problems += [f"local file failed: {b}" for b in bad]
    problems += [f"load failed: {f}" for f in failed]

    # Images: every one decodes, and every one says what it shows to a screen reader. Sphinx puts
    # the file's path in alt when no description is given, so a path counts as no description
    # (chapters: cell metadata mystnb.image.alt, CONTRIBUTING "Figures").
    problems += [f"image does not decode: {i['src']}" for i in images if not i["width"]]
    problems += [f"image without a description (alt {i['alt']!r}): {i['src']}" for i in images
                 if not (i["alt"] or "").strip()
                 or re.search(r"(_images/|\.(png|svg|jpe?g|gif)$)", i["alt"].strip(), re.I)]

    # Math: MathJax from the build typeset every equation, with no TeX error.
    if mathjax.get("failure"):
        problems.append(f"MathJax: {mathjax['failure']}")
    if mathjax["n_math"]:
        if not mathjax["version"]:
            problems.append(f"{mathjax['n_math']} equations but no MathJax on the page")
        problems += [f"MathJax served from outside the build: {s}" for s in mathjax["script"]
                     if not s.startswith(base + "/_static/")]
        if not mathjax["n_containers"]:
            problems.append("no mjx-container on a page with equations")
        problems += [f"equation not typeset: {t!r}" for t in mathjax["untypeset"]]
        problems += [f"raw TeX delimiters left: {t!r}" for t in mathjax["raw"]]
        problems += [f"TeX error: {e}" for e in mathjax["errors"]]

    # Buttons.
    from selenium.webdriver.common.by import By

    def present(selector):
        return bool(driver.find_elements(By.CSS_SELECTOR, selector))

    source_links = driver.find_elements(By.CSS_SELECTOR, "a.btn-download-source-button")
    if not source_links:
        problems.append("no download (source) button")
    if not present(".btn-download-pdf-button"):
        problems.append("no download (PDF) button")
    for link in source_links:
        href = link.get_attribute("href")
        try:
            status = _opener().open(href, timeout=30).status
        except urllib.error.HTTPError as err:
            status = err.code
        if status != 200:
            problems.append(f"download link answers {status}: {href}")
    is_notebook = (SOURCE / f"{page}.ipynb").is_file()
    launch = CONFIG.get("launch_buttons") or {}
    repo_url = ((CONFIG.get("repository") or {}).get("url") or "").strip()
    launch_on = bool(repo_url) and any(launch.get(k) for k in ("binderhub_url", "colab_url", "jupyterhub_url"))
    if launch_on and is_notebook and not present(".dropdown-launch-buttons"):
        problems.append("launch buttons switched on in _config.yml but missing")
    if not launch_on and present(".dropdown-launch-buttons"):
        problems.append("launch buttons present although _config.yml switches them off")
    html_cfg = CONFIG.get("html") or {}
    for key, selector in (("use_repository_button", ".btn-source-repository-button"),
                          ("use_issues_button", ".btn-source-issues-button"),
                          ("use_edit_page_button", ".btn-source-edit-button")):
        on = bool(repo_url) and bool(html_cfg.get(key))
        if on != present(selector):
            problems.append(f"{selector} {'missing' if on else 'present'} with {key}={html_cfg.get(key)}"
                            f" and repository.url={repo_url!r}")
    if not repo_url and PLACEHOLDER_REPO in driver.page_source:
        problems.append(f"page links the unpublished repository {PLACEHOLDER_REPO}")

    # Footer: licence and clinical-use notice on every page.
    footer = " ".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, "footer"))
    for needed in ("MIT licence", "Not for clinical use"):
        if needed not in footer:
            problems.append(f"footer lacks {needed!r}")

    # Dark mode must not filter content images (true grey levels).
    filtered = [f"{i['src']} ({i['filter']})" for i in driver.execute_script(DARK_MODE_FILTERS)
                if i["filter"] not in ("none", "")]
    problems += [f"dark mode filters image: {f}" for f in filtered]

    shot = shots / f"{page}.png"
    _screenshot(driver, shot)
    REPORT[page] = {
        "images": len(images), "equations": mathjax["n_math"], "mjx_containers": mathjax["n_containers"],
        "typeset": mathjax["n_math"] - len(mathjax["untypeset"]) if mathjax["version"] else 0,
        "mathjax": mathjax["version"], "outside_requests": outside, "failed": bad + failed,
        "console_errors": console, "screenshot": str(shot), "problems": problems,
    }
    _write_report(shots)
    assert not problems, f"{page}:\n  " + "\n  ".join(problems)


def test_search_finds_known_term(site, server, driver, shots):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url = f"{server['url']}/search.html?q={SEARCH_TERM}"
    _drain(driver, "browser")
    _drain(driver, "performance")
    n_served = len(server["log"])
    driver.get(url)

    def finished(drv):  # Sphinx writes the summary once the search has run
        summary = drv.find_elements(By.CSS_SELECTOR, "#search-results p.search-summary")
        return bool(summary) and bool(summary[0].text.strip())

    WebDriverWait(driver, 60).until(finished)
    results = driver.find_elements(By.CSS_SELECTOR, "#search-results ul.search li a")
    hits = sorted({r.get_attribute("href").split("/")[-1].split("?")[0].split("#")[0] for r in results})
    console = _console_errors(driver)
    outside, failed = _network(_drain(driver, "performance"), server["url"])
    bad = _bad_responses(server, n_served)
    _screenshot(driver, shots / "search.png")
    REPORT["search"] = {"term": SEARCH_TERM, "hits": hits, "console_errors": console,
                        "outside_requests": outside, "failed": bad + failed}
    _write_report(shots)
    assert SEARCH_PAGE in hits, f"search for {SEARCH_TERM!r} did not find {SEARCH_PAGE}: {hits}"
    assert not console and not outside and not bad and not failed, REPORT["search"]
