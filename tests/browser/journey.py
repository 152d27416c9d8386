"""What every browser journey does on its key pages: a screenshot for the record, an
accessibility check with axe-core, and (on Russian pages) a scan for untranslated text."""

import re
import weakref
from functools import cache
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
BLOCKING_IMPACTS = {"serious", "critical"}
PO_FILE = ROOT / "locale" / "ru" / "LC_MESSAGES" / "django.po"


def artifact_dir(test_name: str) -> Path:
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", test_name)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# Widgets of Django's admin and its add-ons whose markup is not ours: select2's
# autocomplete, nested-admin's tabular option rows (labelled by column headers, which axe
# does not count) and the split date/time inputs. axe finds unlabelled inputs in them,
# which only their upstream projects can fix. Everything else on an admin page is checked.
ADMIN_WIDGETS = [
    [".select2-container"],
    [".djn-tbody"],
    [".datetime"],
]


# Every page a journey opens reports Content Security Policy violations (the browser's
# securitypolicyviolation events, and its console messages, which also cover violations
# before the document exists); check_page fails on any.
CSP_LISTENER = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} ` +
    `at ${event.sourceFile}:${event.lineNumber} (${event.sample})`
  );
});
"""
_csp_console: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # page -> messages


def watch_csp(page) -> None:
    """Collect the page's CSP violations, from now on, for assert_no_csp_violations."""
    messages = _csp_console.setdefault(page, [])
    page.add_init_script(CSP_LISTENER)
    page.on(
        "console",
        lambda message: (
            messages.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )


def assert_no_csp_violations(page) -> None:
    reported = _csp_console.get(page, []) + page.evaluate("window.cspViolations || []")
    assert not reported, f"{page.url}: CSP violations: {reported}"


def check_page(
    page, name: str, *, test_name: str, language: str = "ru", exclude: list | None = None
) -> None:
    """Screenshot the page, then fail on CSP violations, on serious or critical axe
    violations and, on a Russian page, on English interface text."""
    page.screenshot(path=artifact_dir(test_name) / f"{name}.png", full_page=True)
    assert_no_csp_violations(page)
    assert_accessible(page, exclude=exclude)
    if language == "ru":
        assert_translated(page)


AXE_OPTIONS = {"resultTypes": ["violations"], "preload": False}


def assert_accessible(page, *, exclude: list | None = None) -> None:
    context = {"include": [["html"]], "exclude": exclude} if exclude else None
    # No preloading of the style sheets: axe would copy one with an @import (the admin's
    # forms.css) into an inline <style>, which the page's CSP refuses, and the next
    # check_page of the same page would report axe's own violation.
    results = Axe().run(page, context=context, options=AXE_OPTIONS)
    blocking = [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        + "; ".join(node["target"][0] for node in violation["nodes"][:3])
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
    ]
    assert not blocking, f"{page.url}: " + " | ".join(blocking)


@cache
def interface_strings() -> frozenset[str]:
    """The English source strings of the interface (msgids of the Russian catalogue) that
    are whole sentences or labels: seen on a Russian page, they were left untranslated."""
    text = PO_FILE.read_text(encoding="utf-8")
    strings = set()
    for block in text.split("\n\n"):
        match = re.search(r'^msgid ((?:".*"\n?)+)', block, re.MULTILINE)
        if not match or "#~" in block:
            continue
        msgid = "".join(re.findall(r'"(.*)"', match.group(1))).replace('\\"', '"')
        if "%" in msgid or "{" in msgid or len(msgid) < 12 or " " not in msgid:
            continue  # templates with placeholders, and single words shared with data
        strings.add(msgid)
    return frozenset(strings)


def assert_translated(page) -> None:
    body = page.inner_text("body")
    left = sorted(string for string in interface_strings() if string in body)
    assert not left, f"{page.url}: untranslated: {left[:5]}"
