"""pages/utilities.css is what Tailwind's compiler (the copy NiceGUI ships) makes of every string in `pages/`, as
Tailwind's own command line would scan them: a class a page starts using is in it, or this test fails.
`KUNDENPORTAL_WRITE_STYLESHEET=1 .venv/bin/python -m pytest tests/browser/test_stylesheet.py` rewrites it. The
accessibility test checks the other way round: no class on any page that Tailwind would style is missing."""

import ast
import html
import os
import re
from pathlib import Path

import nicegui
import pytest
from playwright.sync_api import Page

from pages.styles import FRAMEWORK, STYLESHEET

pytestmark = pytest.mark.browser
PAGES = Path(__file__).resolve().parents[2] / 'pages'
COMPILER = Path(nicegui.__file__).parent / 'static' / 'tailwindcss.min.js'
DARK = '@custom-variant dark (&:where(body.body--dark, body.body--dark *));'  # as NiceGUI's page template


def test_the_stylesheet_is_tailwinds_output_for_the_pages_classes(browser: Page):
    made = tailwind(browser, candidates())
    if os.environ.get('KUNDENPORTAL_WRITE_STYLESHEET'):
        STYLESHEET.write_text(made)
    assert made == STYLESHEET.read_text(), f'pages/utilities.css lacks {missing(made)}: see this test module'


def candidates() -> set[str]:
    """Every whitespace-separated word of every string in the pages' code, as Tailwind's content scan takes them,
    and the classes of Quasar's and NiceGUI's own elements that Tailwind styles (pages.styles.FRAMEWORK)."""
    words = set(FRAMEWORK.split())
    for source in sorted(PAGES.rglob('*.py')):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                words.update(re.findall(r"""[^\s"'<>=]+""", node.value))
    return words


def tailwind(page: Page, classes: set[str]) -> str:
    """The CSS Tailwind's browser compiler writes for an element with these classes."""
    page.set_content(
        f'<!doctype html><html><head><style type="text/tailwindcss">{DARK}</style></head>'
        f'<body><div class="{html.escape(" ".join(sorted(classes)))}"></div></body></html>'
    )
    page.add_script_tag(content=COMPILER.read_text())
    found = "() => [...document.querySelectorAll('style')].find(s => s.textContent.includes('@layer utilities'))"
    page.wait_for_function(found)
    return page.evaluate(f'() => ({found})().textContent')


def missing(made: str) -> list[str]:
    """The classes Tailwind styled in `made` that pages/utilities.css has no rule for."""
    return sorted(utilities(made) - utilities(STYLESHEET.read_text()))


def utilities(css: str) -> set[str]:
    return {re.sub(r'\\(.)', r'\1', name) for name in re.findall(r'^\s*\.((?:\\.|[\w-])+)\s*\{', css, re.MULTILINE)}
