"""A real server (`supervision serve --demo`) on a free loopback port, and headless Debian Chromium."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("SUPERVISION_CHROMIUM", "/usr/bin/chromium")
DEMO_PASSWORD = "demo-e2e-2026"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# How long a newcomer's `serve --demo` may take to answer: seeding the whole demo (three closed months, awards,
# evidence) takes about a minute on a quiet machine and several on a loaded one; the wait ends when it answers.
START_LIMIT_S = 600

# Where each live server keeps its data (base URL → var dir), for tests that put a row in its database.
LIVE_VAR: dict[str, Path] = {}


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start the service as a newcomer would, with the demo, on SQLite; yield its base URL."""
    var = tmp_path_factory.mktemp("live") / "var"
    port = _free_port()
    env = {**os.environ, "SUPERVISION_VAR_DIR": str(var), "SUPERVISION_DEMO_PASSWORD": DEMO_PASSWORD,
           "SUPERVISION_SCHEDULER_ENABLED": "true", "SUPERVISION_INGEST_ENABLED": "false",
           "SUPERVISION_PASSWORD_HASH_FAST": "false", "SUPERVISION_DATABASE_URL": ""}
    env.pop("SUPERVISION_SECRET_KEY", None)
    log = open(var.parent / "server.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "web", "serve", "--demo", "--port", str(port), "--no-ingest"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_LIMIT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("server exited: " + (var.parent / "server.log").read_text()[-3000:])
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError(f"server did not answer /healthz within {START_LIMIT_S} s")
        LIVE_VAR[base] = var
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield CheckedBrowser(browser)
        browser.close()


# --- Every page a browser test opens is checked: no CSP violation, no WCAG 2 A/AA violation (axe-core). ---

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# Runs in every document before the page's own scripts (Playwright injects it outside the page's CSP): it hands
# every CSP report over at once, and once the document is parsed runs axe on it and hands over the result.
PAGE_CHECK = AXE_SOURCE + """
;(function () {
  if (window.top !== window || location.protocol.indexOf("http") !== 0) { return; }
  document.addEventListener("securitypolicyviolation", function (e) {
    window.__reportPageCheck({url: location.href, csp: [e.violatedDirective + " " + (e.blockedURI || "inline") + " "
                              + (e.sourceFile || "") + ":" + e.lineNumber], axe: null});
  });
  function run() {
    if (document.contentType !== "text/html") {  // an image or JSON opened on its own: not a page of ours
      window.__reportPageCheck({url: location.href, csp: [], axe: []})
        .then(function () { window.__pageChecked = true; });
      return;
    }
    window.axe.run(document, {runOnly: {type: "tag", values: __TAGS__}, resultTypes: ["violations"]})
      .then(function (r) {
        return r.violations.map(function (v) {
          return v.id + " (" + v.impact + "): " + v.help + " — " + v.nodes.slice(0, 5).map(function (n) {
            return n.target.join(" ") + (n.failureSummary ? " [" + n.failureSummary.replace(/\\s+/g, " ") + "]" : "");
          }).join("; ") + (v.nodes.length > 5 ? " … " + v.nodes.length + " elements" : "");
        });
      }, function (err) { return ["axe failed: " + err]; })
      .then(function (axe) {
        return window.__reportPageCheck({url: location.href, csp: [], axe: axe});
      }).then(function () { window.__pageChecked = true; });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", run); } else { run(); }
})();
""".replace("__TAGS__", json.dumps(AXE_TAGS))


class PageChecks:
    """Problems found on the pages of the running test: CSP violations and axe's WCAG violations."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.checked: set[str] = set()
        self.visited: dict[str, str] = {}  # document URL -> method

    def report(self, _source: Any, result: dict[str, Any]) -> None:
        url = result["url"]
        self.problems += [f"CSP violation on {url}: {c}" for c in result["csp"]]
        if result["axe"] is not None:
            self.checked.add(url)
            self.problems += [f"WCAG violation on {url}: {a}" for a in result["axe"]]


def _wait_checked(page: Any) -> None:
    try:
        page.wait_for_function("() => window.__pageChecked === true", timeout=60_000)
    except Exception as exc:
        if "closed" not in str(exc) and "destroyed" not in str(exc) and page.url.startswith("http"):
            raise


class _CheckedContext:
    """A browser context whose every page is checked: axe on every document, CSP reports, console messages."""

    def __init__(self, context: Any, checks: PageChecks) -> None:
        self._context = context
        self._checks = checks
        context.expose_binding("__reportPageCheck", checks.report)
        context.add_init_script(PAGE_CHECK)

        def on_page(page: Any) -> None:
            page.on("console", lambda msg: checks.problems.append(f"console on {page.url}: {msg.text}")
                    if "Content Security Policy" in msg.text else None)

            def on_response(response: Any) -> None:
                request = response.request
                if request.resource_type == "document" and request.frame.parent_frame is None:
                    checks.visited.setdefault(response.url, request.method)

            page.on("response", on_response)

        context.on("page", on_page)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)

    def collect(self) -> None:
        """Wait for the open pages' checks, then check again every page left before its check was done."""
        for page in self._context.pages:
            if not page.is_closed():
                _wait_checked(page)
        missed = [u for u, method in self._checks.visited.items() if method == "GET" and u not in self._checks.checked]
        for url in missed:
            page = self._context.new_page()
            page.goto(url)
            _wait_checked(page)
            page.close()
            self._checks.checked.add(url)

    def close(self, **kwargs: Any) -> None:
        self.collect()
        self._context.close(**kwargs)


class _CheckedPage:
    """A page of a context of its own (Browser.new_page): closing it checks and closes the context."""

    def __init__(self, page: Any, context: _CheckedContext) -> None:
        self._page = page
        self._owner = context

    def __getattr__(self, name: str) -> Any:
        return getattr(self._page, name)

    def close(self, **kwargs: Any) -> None:
        self._owner.close()


class CheckedBrowser:
    """The session's Chromium; every context and page it opens is checked for CSP and WCAG violations."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser
        self.checks = PageChecks()
        self.contexts: list[_CheckedContext] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)

    def new_context(self, **kwargs: Any) -> _CheckedContext:
        context = _CheckedContext(self._browser.new_context(**kwargs), self.checks)
        self.contexts.append(context)
        return context

    def new_page(self, **kwargs: Any) -> _CheckedPage:
        context = self.new_context(**kwargs)
        return _CheckedPage(context.new_page(), context)


@pytest.fixture(autouse=True)
def _no_csp_or_wcag_violation(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a browser test on any CSP violation or WCAG 2 A/AA violation on the pages it opened."""
    if "browser" not in request.fixturenames:
        yield
        return
    checked: CheckedBrowser = request.getfixturevalue("browser")
    checked.checks = PageChecks()
    checked.contexts = []
    yield
    for context in checked.contexts:
        if context._context.pages:  # not closed by the test
            context.close()
    problems = list(dict.fromkeys(checked.checks.problems))  # a page seen twice reports twice
    assert not problems, "pages with violations:\n" + "\n".join(problems)


def switch_language(page: Any, locale: str) -> str:
    """Switch the page to `locale` with the language switch, if it is not in it; return the language it was in.

    The language is kept on the account and the live server is shared by the tests: a test that switches
    switches back (with the returned language) when it ends.
    """
    before = str(page.get_attribute("html", "lang"))
    if before != locale:
        page.click("[data-testid=switch-en]" if locale == "en" else "[data-testid=switch-zh]")
        page.wait_for_selector(f"html[lang={locale}]")
    return before


def login(page: Any, base: str, username: str, *, password: str = DEMO_PASSWORD, start: str = "/login") -> None:
    """Log in as a demo account from `start` (a page that shows the login form), waiting for the home page."""
    page.goto(base + start)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=home-title]")
    page.wait_for_load_state("domcontentloaded")
