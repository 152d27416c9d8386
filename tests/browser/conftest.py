"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Without /usr/bin/chromium the tests are skipped on a developer's machine, but fail in CI
(CI=true), where .ci/run installs it.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing at /usr/bin/chromium (apt-get install -y chromium)")
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by
    # the test itself are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's outcome on the test item, for the fixtures' teardown."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def new_page(browser, request):
    """Open a fresh browser session (its own cookies) in Russian, or with the options
    given (``locale``, ``viewport``, ``has_touch``...); closed after the test. Its CSP
    violations are collected (check_page fails on them). If the test failed, every page
    it opened leaves a screenshot and its HTML in test-artifacts/."""
    from tests.browser.journey import watch_csp

    contexts = []

    def open_page(**options):
        settings = {"locale": "ru-RU", "viewport": {"width": 1280, "height": 900}, **options}
        context = browser.new_context(**settings)
        context.set_default_timeout(30_000)
        contexts.append(context)
        page = context.new_page()
        watch_csp(page)
        return page

    yield open_page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        _keep_failure_evidence(request.node.name, contexts)
    for context in contexts:
        context.close()


def _keep_failure_evidence(test_name: str, contexts) -> None:
    from tests.browser.journey import artifact_dir

    folder = artifact_dir(f"FAILED-{test_name}")
    for number, page in enumerate(page for context in contexts for page in context.pages):
        try:
            page.screenshot(path=folder / f"page-{number}.png", full_page=True)
            (folder / f"page-{number}.html").write_text(page.content(), encoding="utf-8")
        except Exception as error:  # noqa: BLE001 (evidence is best effort; the failure stands)
            (folder / f"page-{number}.error.txt").write_text(repr(error), encoding="utf-8")
