"""The lifecycle diagrams as Chromium draws them: no label sits on another label, on a box
or on a line (the hand-placed drawing they replace put "resubmit" on the reject line)."""

import pytest

pytestmark = pytest.mark.browser

#: Every clash between labels, boxes and lines in each inline diagram, in CSS pixels.
#: Labels are shrunk by 1px on each side so that touching is not counted as overlapping.
CLASHES = """() => [...document.querySelectorAll(".app-diagram svg")].map((svg) => {
  const rect = (el) => { const r = el.getBoundingClientRect();
    return {l: r.left + 1, t: r.top + 1, r: r.right - 1, b: r.bottom - 1, text: el.textContent}; };
  const meets = (a, b) => a.l < b.r && b.l < a.r && a.t < b.b && b.t < a.b;
  const labels = [...svg.querySelectorAll("g.edge text")].map(rect);
  const names = [...svg.querySelectorAll("g.node text")].map(rect);
  const boxes = [...svg.querySelectorAll("g.node path")].map(rect);
  const clashes = [];
  labels.forEach((a, i) => {
    labels.slice(i + 1).forEach((b) => { if (meets(a, b)) clashes.push(`${a.text} / ${b.text}`); });
    boxes.forEach((b) => { if (meets(a, b)) clashes.push(`${a.text} on a box`); });
  });
  names.forEach((a, i) => names.slice(i + 1).forEach((b) => {
    if (meets(a, b)) clashes.push(`${a.text} / ${b.text}`); }));
  svg.querySelectorAll("g.edge path").forEach((path) => {
    const length = path.getTotalLength(), toPage = path.getScreenCTM();
    for (let at = 0; at <= length; at += 1) {
      const {x, y} = path.getPointAtLength(at).matrixTransform(toPage);
      const hit = labels.find((a) => a.l < x && x < a.r && a.t < y && y < a.b);
      if (hit) { clashes.push(`a line crosses ${hit.text}`); break; }
    }
  });
  return {labels: labels.length, names: names.length, clashes};
})"""


def test_lifecycle_diagrams_have_no_overlapping_labels(journey):
    page = journey.goto("/how-the-fund-works")
    page.set_viewport_size({"width": 1280, "height": 900})
    diagrams = page.evaluate(CLASHES)
    assert len(diagrams) == 2
    for drawn in diagrams:
        assert drawn["names"] >= 4 and drawn["labels"] >= 4
        assert drawn["clashes"] == []
    journey.shot("lifecycle-application", page.locator(".app-diagram").first)
    journey.shot("lifecycle-claim", page.locator(".app-diagram").nth(1))
    journey.assert_accessible()


def test_on_a_phone_the_diagrams_scroll_inside_their_own_region(journey):
    page = journey.goto("/how-the-fund-works")
    page.set_viewport_size({"width": 320, "height": 640})
    regions = page.evaluate(
        """() => [...document.querySelectorAll(".app-diagram")].map((r) => ({
             right: r.getBoundingClientRect().right, scrolls: r.scrollWidth > r.clientWidth,
             focusable: r.tabIndex === 0, name: r.getAttribute("aria-label")}))"""
    )
    assert len(regions) == 2
    for region in regions:
        assert region["right"] <= 320 and region["focusable"] and region["name"]
    assert regions[0]["scrolls"]  # the bid's lifecycle is wider than a phone: it scrolls, unshrunk
    journey.shot("lifecycle-320px")
    journey.assert_accessible()
