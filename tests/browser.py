"""Driving Debian's chromium with Playwright for the site's browser tests: the browser (skipped
when chromium is missing in a user's clone, failing under CI=true), axe-core accessibility checks
and the screenshots written to test-artifacts/screenshots/."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
#: Impacts that fail a test; "minor" and "moderate" ones are left to judgement.
FAILING_IMPACTS = ("serious", "critical")
#: Viewport widths × heights the pages are checked at.
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def require_chromium() -> Path:
    """The chromium binary; skips in a user's clone without it, fails under CI=true."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing: CI must install chromium (.ci/run does, with apt)")
    pytest.skip(f"{CHROMIUM} not present: skipping browser tests (apt-get install chromium)")


@contextmanager
def launched() -> Iterator[Browser]:
    """A headless chromium, closed on exit."""
    executable = require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(executable), args=["--headless", "--no-sandbox"]
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def opened(browser: Browser, base_url: str, viewport: dict[str, int]) -> Iterator[Page]:
    """A page in a fresh context (no shared history or cookies) at `viewport`."""
    context = browser.new_context(base_url=base_url, viewport=viewport)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def axe_violations(page: Page) -> list[dict]:
    """Runs axe-core on the page as it is now; its violations of a failing impact."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in FAILING_IMPACTS]


def describe_violations(violations: list[dict]) -> str:
    """One paragraph per violation: rule id, impact, help, and each node's target and summary."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"]:
            lines.append(f"  - {' '.join(map(str, node['target']))}")
            summary = " ".join(node.get("failureSummary", "").split())
            if summary:
                lines.append(f"    {summary[:300]}")
    return "\n".join(lines)


def screenshot(page: Page, name: str) -> Path:
    """A full-page screenshot as test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def overflowing(page: Page) -> list[str]:
    """When the document is wider than the viewport: the elements that reach past its right edge
    (not counting those inside a container that scrolls on its own), else nothing."""
    return page.evaluate(
        """() => {
        const width = window.innerWidth;
        if (document.documentElement.scrollWidth <= width + 1) return [];
        const scrolls = (el) => {
            for (let p = el.parentElement; p; p = p.parentElement) {
                const x = getComputedStyle(p).overflowX;
                if (x === 'auto' || x === 'scroll' || x === 'hidden') return true;
            }
            return false;
        };
        const wide = [];
        for (const el of document.body.querySelectorAll('*')) {
            if (el.getBoundingClientRect().right > width + 1 && !scrolls(el)) {
                const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                    + (el.className && typeof el.className === 'string'
                       ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
                wide.push(name + ' right=' + Math.round(el.getBoundingClientRect().right));
            }
        }
        return ['scrollWidth ' + document.documentElement.scrollWidth + ' > ' + width,
                ...wide.slice(0, 15)];
    }"""
    )
