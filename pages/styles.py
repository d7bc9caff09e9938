"""The Tailwind utilities the pages use (`w-full`, `gap-4`, `max-w-3xl`, …), as a stylesheet made ahead instead
of NiceGUI's default: Tailwind's compiler (260 KB of JavaScript) loaded into every customer's browser, where it reads
the page and writes the same CSS again on every page load. Measured in headless Chromium (docs/operations.md, "Page
loads"): a first visit's main-thread time 439–464 → 360–380 ms (median of five, twice), a later page load's 0.30 →
0.27 s; the 8 public and 14 customer pages look the same to the pixel at 1280 and 360 px (the back office's were not
compared).

`utilities.css` is Tailwind's own output (the compiler NiceGUI ships, run in Chromium over every string in `pages/`,
as Tailwind's command line scans sources), so a class looks exactly as before. tests/browser/test_stylesheet.py
fails when a page starts using a class the stylesheet lacks, and rewrites it with `KUNDENPORTAL_WRITE_STYLESHEET=1`.
Every word of every string counts, docstrings included: a word that is also a utility's name (`table`, `outline`)
adds its rule, which styles only an element carrying that class, as the compiler did. Quasar's `rotate-*` classes
are left out on purpose: NiceGUI cancelled Tailwind's rule for them (its `headwind.css`, served only with the
compiler), which would turn an open select's arrow a second time."""

import hashlib
from pathlib import Path

from nicegui import app, ui

STYLESHEET = Path(__file__).with_name('utilities.css')
# Classes that Quasar's and NiceGUI's own elements carry and Tailwind styles too (with the same effect as Quasar's
# rule): made with the rest, as the compiler in the browser did. Found by the accessibility test, which collects every
# class on the pages and states it audits (a class only other states carry keeps Quasar's own rule, as it looks the
# same); tests/browser/test_stylesheet.py adds them to the scan.
FRAMEWORK = (
    'absolute cursor-pointer fixed flex items-end justify-center overflow-hidden self-stretch text-center text-left'
)
YEAR = 365 * 24 * 3600
PREFIX = '/_kp/'  # the stylesheet's path begins so: browsers may keep it (pages.security), it never queues (admission)


def serve() -> None:
    """Every page links the stylesheet; its address names its content, so browsers may keep it for a year."""
    digest = hashlib.sha256(STYLESHEET.read_bytes()).hexdigest()[:16]
    url = app.add_static_file(local_file=STYLESHEET, url_path=f'{PREFIX}utilities-{digest}.css', max_cache_age=YEAR)
    ui.add_head_html(f'<link rel="stylesheet" href="{url}">', shared=True)
