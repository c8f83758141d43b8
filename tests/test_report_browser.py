"""gradgen report in a real browser (headless Chromium through Playwright): an example's
page opens with no console error and no request but its own, its MathML is laid out,
hovering a delta marks its line of generated code and its graph node, and the step-through
visits the graph's nodes in reverse topological order; for a sample of the examples, or
for every one with GRADGEN_ALL_PAGES=1. Skipped without Chromium."""

from __future__ import annotations

import json
import os
import re

import pytest

import browser
from report_pages import NAMED, models

if browser.chromium() is None:
    pytest.skip(
        "Chromium is not installed (apt-get install chromium): the browser tests are "
        "skipped",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install playwright)"
)

ALL_PAGES = sorted(set(NAMED) | {m.stem for m in models()} | {"sigmoid_array"})
# The default run opens a page of each kind (a gate's values, an array output, a trained
# point, a loop kept and one unrolled, two carried states, masks, integer labels, selects);
# GRADGEN_ALL_PAGES=1 opens every example's (a minute more on 2 cores)
SAMPLE = [
    "attention",
    "gate",
    "huber",
    "lstm",
    "rnn",
    "rnn_sequence",
    "sigmoid_array",
    "two_layer_net",
    "xor",
]
EVERY_PAGE = os.environ.get("GRADGEN_ALL_PAGES", "0") not in ("", "0")
PAGES = ALL_PAGES if EVERY_PAGE else SAMPLE


@pytest.fixture(scope="session")
def tab():
    """One browser tab for every test: (page, problems, expected), where problems collects
    console errors, uncaught exceptions and every request but the page's own (expected).
    """
    with sync_api.sync_playwright() as p:
        chromium = browser.launch(p)
        page = chromium.new_page()
        problems: list = []
        expected = []  # the page being opened: its own request is no problem
        page.on(
            "console",
            lambda m: (
                problems.append(("console", m.text)) if m.type == "error" else None
            ),
        )
        page.on("pageerror", lambda e: problems.append(("exception", str(e))))
        page.on(
            "request",
            lambda r: (
                None if r.url in expected else problems.append(("request", r.url))
            ),
        )
        yield page, problems, expected
        chromium.close()


@pytest.fixture
def opened(tab, report_pages):
    """Open a report: (page, data, problems)."""
    page, problems, expected = tab

    def open_page(name):
        problems.clear()
        expected[:] = [report_pages[name].as_uri()]
        page.emulate_media(media="screen")
        page.goto(expected[0])
        data = json.loads(page.locator("#gradgen-data").text_content())
        return page, data, problems

    return open_page


def test_the_sample_names_pages():
    assert [name for name in SAMPLE if name not in ALL_PAGES] == []


MATH_LAID_OUT = """() => Array.from(document.querySelectorAll("math")).filter(m => {
    const r = m.getBoundingClientRect(); return !(r.width > 0 && r.height > 0); }).length"""
FRACTIONS_STACKED = """() => Array.from(document.querySelectorAll("mfrac")).every(f => {
    const [top, bottom] = Array.from(f.children).map(c => c.getBoundingClientRect());
    return top.bottom <= bottom.top + 1; })"""


@pytest.mark.parametrize("name", PAGES)
def test_report_opens_offline_with_its_maths_laid_out(opened, name):
    page, data, problems = opened(name)
    assert page.locator("math").count() > 0
    assert page.evaluate(MATH_LAID_OUT) == 0
    assert page.evaluate(FRACTIONS_STACKED)  # MathML layout, not text in a row
    if page.locator("figure.graph svg").count():
        assert page.locator("figure.graph svg g.node").count() >= 2
    assert problems == []


def _delta(data: dict, page) -> tuple[str, str]:
    """A delta of the derivation (or, where the code names none, a gradient) and the
    name of the graph node it is the adjoint of."""
    titles = page.locator("figure.graph svg g.node > title").all_text_contents()
    keys = page.locator(".eqs tr[data-key]").evaluate_all(
        "rows => rows.map(r => r.dataset.key)"
    )
    for key in keys:
        name = key.split(":", 1)[1]
        for prefix in ("delta_", "d"):
            if name.startswith(prefix) and name[len(prefix) :] in titles:
                return key, name[len(prefix) :]
    raise AssertionError("no delta or gradient of a node in the derivation")


@pytest.mark.parametrize("name", PAGES)
def test_hovering_a_delta_marks_its_code_line_and_graph_node(opened, name):
    page, data, problems = opened(name)
    key, node = _delta(data, page)
    code_name = key.split(":", 1)[1]
    page.locator(f'.eqs tr[data-key="{key}"]').first.hover()
    code = page.locator(f'.code-pane .line[data-key="{key}"].hl')
    assert code.count() >= 1
    assert code.first.text_content().split(None, 1)[1].startswith(f"{code_name} ")
    marked = page.locator("figure.graph svg g.node.hl > title").all_text_contents()
    assert node in marked
    lines = data[key.split(":")[0]]["links"][key]["model"]
    assert lines and all(
        "hl" in page.locator(f"#m-{n}").get_attribute("class") for n in lines
    )
    page.mouse.move(0, 0)
    assert page.locator(".hl").count() == 0
    fn = key.split(":")[0]  # and back: the node marks the delta's row and line
    page.locator(f"#{fn}-n-{node}").hover()
    assert page.locator(f'.eqs tr[data-key="{key}"].hl').count() >= 1
    assert page.locator(f'.code-pane .line[data-key="{key}"].hl').count() >= 1
    assert problems == []


CURRENT = """fn => [Array.from(document.querySelectorAll(
    `figure.graph[data-fn="${fn}"] svg g.node[aria-current="step"] > title`))
    .map(t => t.textContent), document.getElementById(fn + "-say").textContent]"""


@pytest.mark.parametrize("name", PAGES)
def test_step_through_visits_nodes_in_reverse_topological_order(opened, name):
    page, data, problems = opened(name)
    for fn in data:
        figure = page.locator(f'figure.graph[data-fn="{fn}"]')
        nodes = figure.locator("svg g.node > title").all_text_contents()
        edges = figure.locator("svg g.edge > title").all_text_contents()
        # a loop's step, drawn once beside its node (loop1.h), is not a step of the pass
        step = re.compile(r"loop\d+\.")
        nodes = [n for n in nodes if not step.match(n)]
        edges = [e for e in edges if not step.match(e)]
        figure.focus()
        visited, said = [], set()
        for _ in nodes:
            page.keyboard.press("ArrowRight")
            current, text = page.evaluate(CURRENT, fn)
            assert len(current) == 1
            visited.append(current[0])
            said.add(text)
        assert sorted(visited) == sorted(nodes)
        order = {n: k for k, n in enumerate(visited)}
        for (
            edge
        ) in edges:  # a value flows tail -> head: the backward pass meets head first
            tail, head = edge.split("->")
            assert order[head] < order[tail], (edge, visited)
        assert len(said) == len(nodes)
        page.keyboard.press("Escape")
        assert figure.locator('g.node[aria-current="step"]').count() == 0
    assert problems == []


def test_keyboard_alone_reaches_and_links_every_part(opened):
    page, data, problems = opened("sigmoid")
    reached = []
    for _ in range(40):
        page.keyboard.press("Tab")
        reached.append(page.evaluate(FOCUSED))
        if "eqs" in reached[-1]:  # the derivation: f = -z first
            break
    for part in ("aside", "figure.graph", "stepper", "nodes", "eqs"):
        assert any(part in r for r in reached), (part, reached)
    page.keyboard.press("ArrowDown")  # then g = e^f: its line of code is marked
    assert page.evaluate("document.activeElement.dataset.key") == "f0:g"
    assert page.locator('.code-pane .line.hl[data-key="f0:g"]').count() == 1
    page.keyboard.press("Tab")  # on to the generated code
    assert "code-pane" in page.evaluate(FOCUSED)
    assert problems == []


FOCUSED = """() => { const e = document.activeElement;
    const holder = e.closest("figure.graph, .stepper, table, .code-pane, aside");
    return e.tagName + " " + (holder ? holder.tagName.toLowerCase() + "." +
        holder.className : "") + " " + (e.dataset.key || ""); }"""


def test_print_shows_everything_without_the_controls(opened):
    page, data, problems = opened("xor")
    page.emulate_media(media="print")
    assert (
        page.locator(".stepper").first.evaluate("e => getComputedStyle(e).display")
        == "none"
    )
    assert page.locator(".layout").evaluate("e => getComputedStyle(e).display") == (
        "block"
    )
    page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
    assert page.locator("details:not([open])").count() == 0
    assert problems == []
