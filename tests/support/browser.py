"""A real browser for the report tests: the system's Chromium, headless, driven by
Playwright (its own browser download is not needed: the system's is its executable).

    python tests/support/browser.py   # the README's screenshots: docs/report_*.png

Nothing is fetched: the flags turn off Chromium's background traffic, Playwright starts it
with a fresh profile, and the tests fail on any request other than the page itself.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str | None:
    """The system's Chromium, or None."""
    for candidate in (
        os.environ.get("GRADGEN_CHROMIUM"),
        "chromium",
        "chromium-browser",
    ):
        found = candidate and shutil.which(candidate)
        if found:
            return found
    return None


def launch(playwright):
    return playwright.chromium.launch(executable_path=chromium(), args=FLAGS)


def _stepped(page) -> None:
    """The backward pass two steps in: node h, its delta, their lines, marked."""
    page.locator("figure.graph").first.focus()
    for _ in range(2):
        page.keyboard.press("ArrowRight")
    page.evaluate("document.querySelector('article').scrollIntoView()")


SHOTS = {  # docs/report_<name>.png: (model, arguments, viewport height, what to do)
    "gate": ("gate.py", ["--at", "w0=2,x0=-1,w1=-3,x1=-2,w2=-3"], 820, None),
    "sigmoid": ("sigmoid.py", ["--function", "sigmoid", "--at", "z=1"], 1080, _stepped),
}


def screenshots(root: Path) -> None:
    """Write docs/report_gate.png (the CS231n gate's graph) and docs/report_sigmoid.png
    (the backward pass stepped to h: its node, delta, lines of code and model marked).
    """
    from playwright.sync_api import sync_playwright

    from gradgen.cli.commands import main

    folder = Path(tempfile.mkdtemp())
    with sync_playwright() as p:
        browser = launch(p)
        for name, (model, args, height, action) in SHOTS.items():
            page = browser.new_page(viewport={"width": 1280, "height": height})
            out = folder / f"{name}.html"
            assert main(["report", f"examples/{model}", *args, "-o", str(out)]) == 0
            page.goto(out.as_uri())
            if action:
                action(page)
            page.screenshot(path=root / "docs" / f"report_{name}.png")
        browser.close()


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[2]
    os.chdir(root)  # the pages name the examples as the README's commands do
    sys.path.insert(0, str(root))
    screenshots(root)
