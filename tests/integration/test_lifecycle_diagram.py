"""The lifecycle diagrams are Graphviz drawings of ``fundflow.workflow``, committed as SVG.

Redraw them after changing the workflow with ``flask --app wsgi fundflow draw-lifecycle``
(needs Debian's ``graphviz``; ``scripts/test.sh`` installs it).
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET

import pytest

from fundflow.main import diagram
from fundflow.workflow import CLAIM_LIFECYCLE, Lifecycle

SVG = "{http://www.w3.org/2000/svg}"
NAMES = list(diagram.LIFECYCLES)


def _texts(svg: str) -> list[str]:
    return [t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}text")]


@pytest.mark.parametrize("name", NAMES)
def test_committed_lifecycle_diagram_is_what_graphviz_draws_from_the_workflow_today(name):
    committed = diagram.svg_path(name).read_text(encoding="utf-8")
    assert diagram.draw(name) == committed, (
        f"{diagram.svg_path(name).name} is out of date with fundflow/workflow.py: "
        "run `flask --app wsgi fundflow draw-lifecycle` and commit the result"
    )


def test_drawing_is_deterministic():
    assert diagram.draw("application") == diagram.draw("application")


def test_a_changed_workflow_draws_a_different_picture(monkeypatch):
    """The freshness test above can fail: drop one claim action and the drawing changes."""
    kept = [a for a in CLAIM_LIFECYCLE.actions.values() if a.name != "reverse_payment"]
    smaller = Lifecycle("claim", CLAIM_LIFECYCLE.states, kept, CLAIM_LIFECYCLE.initial)
    monkeypatch.setitem(diagram.LIFECYCLES, "claim", (smaller, "a backfill claim"))
    redrawn = diagram.draw("claim")
    assert redrawn != diagram.svg_path("claim").read_text(encoding="utf-8")
    assert "Reverse payment" not in _texts(redrawn)


@pytest.mark.parametrize("name", NAMES)
def test_diagram_shows_every_state_and_every_action_of_the_workflow(name):
    lifecycle, _ = diagram.LIFECYCLES[name]
    texts = _texts(diagram.svg_path(name).read_text(encoding="utf-8"))
    for label in lifecycle.states.values():
        assert label in texts, f"state {label!r} missing from the {name} diagram"
    for action in lifecycle.actions.values():
        arrows = len(action.sources) * max(len(action.destinations), 1)
        assert texts.count(action.label) == arrows, f"{action.label!r}: expected {arrows} labelled arrows"


@pytest.mark.parametrize("name", NAMES)
def test_diagram_is_an_image_with_a_title_and_a_description(name):
    svg = diagram.svg_path(name).read_text(encoding="utf-8")
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    title, desc = root[0], root[1]
    assert title.tag == f"{SVG}title" and root.get("aria-labelledby") == title.get("id")
    assert desc.tag == f"{SVG}desc" and root.get("aria-describedby") == desc.get("id")
    lifecycle, record = diagram.LIFECYCLES[name]
    assert record in title.text
    for action in lifecycle.actions.values():
        assert action.label in desc.text
    # Only the title and the description carry ids (two diagrams share one page), and
    # nothing from the Graphviz build that drew it (version comments) is left in.
    assert re.findall(r' id="([^"]+)"', svg) == [title.get("id"), desc.get("id")]
    assert "<!--" not in svg and "<?xml" not in svg and "graphviz" not in svg.lower()


@pytest.mark.parametrize("name", NAMES)
def test_diagram_uses_only_gov_uk_colours_that_read_against_white(name):
    svg = diagram.svg_path(name).read_text(encoding="utf-8")
    colours = set(re.findall(r'(?:fill|stroke)="([^"]+)"', svg))
    assert colours <= {"white", "none", "transparent", "#0b0c0c", "#505a5f", "#1d70b8", "#f3f2f1"}, colours


def test_how_it_works_page_inlines_both_diagrams_without_graphviz(client, monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # importing it would now fail
    diagram.lifecycle_svg.cache_clear()
    page = client.get("/how-the-fund-works").get_data(as_text=True)
    assert 'id="lifecycle-application-title"' in page
    assert 'id="lifecycle-claim-title"' in page
    assert "Who can do what, and when" in page and "Backfill claims" in page
    standalone = client.get("/how-the-fund-works/lifecycle.svg")
    assert standalone.mimetype == "image/svg+xml"
    assert standalone.get_data(as_text=True) == diagram.svg_path("application").read_text(encoding="utf-8")


def test_draw_lifecycle_command_rewrites_the_committed_files(runner, monkeypatch, tmp_path):
    monkeypatch.setattr(diagram, "STATIC", tmp_path)
    result = runner.invoke(args=["fundflow", "draw-lifecycle"])
    assert result.exit_code == 0, result.output
    for name in NAMES:
        assert f"lifecycle-{name}.svg" in result.output
        drawn = (tmp_path / f"lifecycle-{name}.svg").read_text(encoding="utf-8")
        assert drawn == diagram.draw(name)
