"""Our templates hold nothing the Content Security Policy would block: scripts are files
(<script src>) or JSON data (json_script, type="application/json"), never inline code, event
handler attributes or javascript: links; styles are in stylesheets, never style attributes
or <style> blocks. The browser test checks the rendered pages; this catches a template
before any page renders it."""

import re
from pathlib import Path

from django.conf import settings

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
HANDLER_ATTRIBUTE = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<[^>]*\sstyle\s*=|<style\b", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"""=\s*["']?\s*javascript:""", re.IGNORECASE)


def blocked_markup(text: str) -> list[str]:
    problems = [
        f"inline script {match.group(0)}"
        for match in SCRIPT_TAG.finditer(text)
        if "src=" not in match.group(1) and "application/json" not in match.group(1)
    ]
    for name, pattern in [
        ("event handler attribute", HANDLER_ATTRIBUTE),
        ("inline style", INLINE_STYLE),
        ("javascript: URL", JAVASCRIPT_URL),
    ]:
        problems += [f"{name} {match.group(0)[:60]}" for match in pattern.finditer(text)]
    return problems


def test_the_scan_finds_what_the_policy_blocks():
    assert blocked_markup('<script>alert(1)</script><a href="#" onclick="x()">') == [
        "inline script <script>",
        'event handler attribute <a href="#" onclick=',
    ]
    assert blocked_markup('<p style="color: red"><a href="javascript:void(0)">') == [
        "inline style <p style=",
        'javascript: URL ="javascript:',
    ]
    assert (
        blocked_markup(
            '<script src="/static/js/a.js" defer></script>'
            '<script id="d" type="application/json">{}</script><form action="/x" method="post">'
        )
        == []
    )


def test_templates_hold_no_inline_script_or_style():
    templates = sorted(Path(settings.BASE_DIR, "templates").rglob("*.html"))
    templates += sorted(
        path
        for app in ("accounts", "polls", "rewards", "novelties", "discussions", "audit", "civic")
        for path in Path(settings.BASE_DIR, app).glob("templates/**/*.html")
    )
    assert templates
    found = {
        str(path.relative_to(settings.BASE_DIR)): problems
        for path in templates
        if (problems := blocked_markup(path.read_text(encoding="utf-8")))
    }
    assert not found, found
