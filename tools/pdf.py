"""`make pdf`: the whole book as one PDF, printed by the system Chromium from a single-page build.

    python tools/pdf.py [--html _build/singlehtml] [--out _build/pdf/book.pdf]

1. ``jupyter-book build . --builder singlehtml`` (run by ``make pdf`` before this script) writes the
   whole book into one HTML page, numbered as the web book, reusing the executed notebooks of the
   HTML build (``execute_notebooks: cache``).
2. This script serves that page on 127.0.0.1, opens it in headless Chromium (selenium and the
   system chromedriver, as the browser test does), waits until MathJax (served by the book) has
   typeset every equation, and prints it with Chrome's own PDF engine (``Page.printToPDF``):
   A4, page numbers in the footer, a document outline (bookmarks) from the headings, internal
   links kept, tagged for screen readers. The Chinese quotations use the system's Noto CJK fonts
   (Debian: fonts-noto-cjk).
3. It writes ``book.pdf`` and a small ``book.json`` beside it (pages, bytes, equations typeset).

Everything installs from the registries (Debian's chromium, chromium-driver, fonts-noto-cjk;
selenium from PyPI); nothing is downloaded at run time, and the page makes no request outside
127.0.0.1.
"""

from __future__ import annotations

import argparse
import base64
import functools
import http.server
import json
import os
import re
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


def _driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=127.0.0.1;localhost"):
        opts.add_argument(flag)
    service = Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    return webdriver.Chrome(options=opts, service=service)


def _root_page(html_dir: Path) -> str:
    """The single page itself: Jupyter Book's index.html only redirects to the root document."""
    index = (html_dir / "index.html").read_text(encoding="utf-8", errors="replace")
    m = re.search(r"url=([^\"'>\s]+\.html)", index, re.I)
    return m.group(1) if m and (html_dir / m.group(1)).is_file() else "index.html"


def print_pdf(html_dir: Path, out: Path, timeout: float = 300.0) -> dict:
    """Print ``html_dir/index.html`` to ``out``; returns the facts written to ``book.json``."""
    if not (html_dir / "index.html").is_file():
        raise SystemExit(f"pdf: no single-page build in {html_dir}: run `make pdf` (it builds it first).")
    handler = functools.partial(_Quiet, directory=str(html_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    driver = _driver()
    try:
        driver.set_page_load_timeout(timeout)
        driver.set_script_timeout(timeout)
        driver.get(f"http://127.0.0.1:{server.server_address[1]}/{_root_page(html_dir)}")
        # MathJax 3 typesets after load; its startup promise resolves when every equation is done.
        state = driver.execute_async_script(
            """const done = arguments[arguments.length - 1];
            const count = () => {
              const chars = new Set();
              const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
              while (walker.nextNode()) {
                const el = walker.currentNode.parentElement;
                if (!el || el.closest('mjx-container, script, style, noscript')) continue;
                for (const ch of walker.currentNode.data) if (ch.codePointAt(0) > 127) chars.add(ch);
              }
              return {typeset: document.querySelectorAll('mjx-container').length,
                      errors: document.querySelectorAll('mjx-merror').length,
                      raw: (document.body.innerText.match(/\\$\\$|\\\\\\[|\\\\begin\\{/g) || []).length,
                      chars: Array.from(chars).sort().join('')};
            };
            if (!window.MathJax || !MathJax.startup) { done(count()); return; }
            MathJax.startup.promise.then(() => done(count())).catch(e => done({error: String(e)}));"""
        )
        if "error" in state:
            raise SystemExit(f"pdf: MathJax failed: {state['error']}")
        time.sleep(1.0)  # let the last fonts and images settle
        title = driver.title
        result = driver.execute_cdp_cmd("Page.printToPDF", {
            "paperWidth": 8.27, "paperHeight": 11.69,  # A4, inches
            "marginTop": 0.6, "marginBottom": 0.7, "marginLeft": 0.6, "marginRight": 0.6,
            "printBackground": True,
            "displayHeaderFooter": True,
            "headerTemplate": "<span></span>",
            "footerTemplate": ("<div style='font-size:8px;width:100%;text-align:center;color:#555'>"
                               "<span class='title'></span> — <span class='pageNumber'></span> / "
                               "<span class='totalPages'></span></div>"),
            "generateDocumentOutline": True,
            "generateTaggedPDF": True,
        })
    finally:
        driver.quit()
        server.shutdown()
    data = base64.b64decode(result["data"])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    from pypdf import PdfReader

    pages = len(PdfReader(str(out)).pages)
    facts = {"pdf": str(out.relative_to(ROOT)) if out.is_relative_to(ROOT) else str(out), "pages": pages,
             "bytes": len(data), "title": title, "equations_typeset": state["typeset"],
             "math_errors": state["errors"], "raw_math_left": state["raw"], "text_characters": state["chars"]}
    out.with_suffix(".json").write_text(json.dumps(facts, indent=1) + "\n")
    return facts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--html", default="_build/singlehtml")
    parser.add_argument("--out", default="_build/pdf/book.pdf")
    args = parser.parse_args(argv)
    html, out = (Path(p) if Path(p).is_absolute() else ROOT / p for p in (args.html, args.out))
    facts = print_pdf(html, out)
    print(f"pdf: {facts['pdf']}: {facts['pages']} pages, {facts['bytes'] / 2**20:.1f} MiB, "
          f"{facts['equations_typeset']} equations typeset")
    return 0


if __name__ == "__main__":
    sys.exit(main())
