"""The lifecycle diagrams: drawn by Graphviz from ``workflow.py``, committed as SVG files.

Graphviz (``dot``) lays out the states and the labelled arrows, so no label sits on a
line or on another label. It is needed only to *regenerate* the pictures::

    flask --app wsgi fundflow draw-lifecycle      # or: python -m fundflow.main.diagram

The files are committed under ``fundflow/static/`` and the pages read them as they are,
so serving the site needs neither Graphviz nor the ``graphviz`` Python package. A test
redraws them and fails on any difference, so they cannot drift from what the code enforces.
"""

from __future__ import annotations

import re
from functools import lru_cache
from html import escape
from pathlib import Path

from ..workflow import APPLICATION_LIFECYCLE, CLAIM_LIFECYCLE, Action, Lifecycle

STATIC = Path(__file__).resolve().parents[1] / "static"

#: Every lifecycle drawn, and what its record is called in the picture's text alternative.
LIFECYCLES: dict[str, tuple[Lifecycle, str]] = {
    "application": (APPLICATION_LIFECYCLE, "a bid"),
    "claim": (CLAIM_LIFECYCLE, "a backfill claim"),
}

# GOV.UK colours: black text on white, white text on blue for the start state, dark grey
# lines (7:1 against white). Graphviz measures text in Helvetica (which fontconfig resolves
# to Liberation Sans, with Arial's metrics) and writes it centred; the SVG then asks for
# GOV.UK's "arial, sans-serif".
FONT = "Helvetica"
TEXT, LINE, START, END_FILL = "#0b0c0c", "#505a5f", "#1d70b8", "#f3f2f1"
GRAPH_ATTRS = {
    "rankdir": "TB",
    "nodesep": "0.3",
    "ranksep": "0.45",
    "pad": "0.2",
    "size": "10,30",  # at most 720pt = 960 CSS px wide, the width of the page's content
    "bgcolor": "white",
    "fontname": FONT,
}
NODE_ATTRS = {
    "shape": "box",
    "style": "rounded,filled",
    "fillcolor": "white",
    "color": TEXT,
    "penwidth": "2",
    "fontname": f"{FONT}-Bold",
    "fontsize": "14",
    "fontcolor": TEXT,
    "margin": "0.2,0.1",
}
EDGE_ATTRS = {"color": LINE, "penwidth": "1.5", "arrowsize": "0.8", "fontname": FONT, "fontsize": "12"}


def svg_path(name: str) -> Path:
    return STATIC / f"lifecycle-{name}.svg"


def dot_source(lifecycle: Lifecycle) -> str:
    """The lifecycle as a Graphviz ``dot`` graph: a box per state, an arrow per move."""
    import graphviz  # only needed to regenerate the committed pictures

    graph = graphviz.Digraph(
        lifecycle.name, graph_attr=GRAPH_ATTRS, node_attr=NODE_ATTRS, edge_attr=EDGE_ATTRS
    )
    moves_out = {s for a in lifecycle.actions.values() if a.dest for s in a.sources}
    for state, label in lifecycle.states.items():
        if state == lifecycle.initial:
            graph.node(state, label, fillcolor=START, fontcolor="white", color=START)
        elif state not in moves_out:
            graph.node(state, label, fillcolor=END_FILL)
        else:
            graph.node(state, label)
    # Actions that leave a state as it is share one dashed loop on it, a line per action, so
    # the loops' labels never cross each other.
    staying: dict[str, list[str]] = {}
    for action in lifecycle.actions.values():
        routed = [(f"{action.label}\n({_words(c)})", d) for c, d in action.routes]
        for source in action.sources:
            if action.dest is None:
                staying.setdefault(source, []).append(action.label)
                continue
            for label, dest in (*routed, (action.label, action.dest)):
                graph.edge(source, dest, label=label)
    for state, labels in staying.items():
        graph.edge(state, state, label="\n".join(labels), style="dashed")
    return graph.source


def draw(name: str) -> str:
    """Lay out one lifecycle with ``dot`` and return an accessible, deterministic SVG."""
    import graphviz

    lifecycle, record = LIFECYCLES[name]
    svg = graphviz.pipe("dot", "svg", dot_source(lifecycle).encode(), quiet=True).decode()
    return _accessible(svg, name, lifecycle, record)


def write_all() -> list[Path]:
    """Redraw every lifecycle into its committed file; return the files written."""
    written = []
    for name in LIFECYCLES:
        path = svg_path(name)
        path.write_text(draw(name), encoding="utf-8")
        written.append(path)
    return written


@lru_cache(maxsize=8)
def lifecycle_svg(name: str = "application") -> str:
    """The committed picture of one lifecycle, ready to inline in a page."""
    return svg_path(name).read_text(encoding="utf-8")


def _words(identifier: str) -> str:
    return identifier.replace("_", " ")


def _accessible(svg: str, name: str, lifecycle: Lifecycle, record: str) -> str:
    # Drop what varies between Graphviz builds or is no use inline: the XML prolog, the
    # doctype, comments (version, titles) and the per-shape tooltips; keep the drawing.
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<!--.*?-->\s*", "", svg, flags=re.S)
    svg = re.sub(r"<title>.*?</title>\s*", "", svg, flags=re.S)
    svg = re.sub(r' id="[^"]*"', "", svg)  # two diagrams share a page: no clashing ids
    svg = svg.replace(f'font-family="{FONT},sans-Serif"', 'font-family="arial, sans-serif"')
    width, height, view_box = (
        re.search(rf'{attr}="([^"]+)"', svg[: svg.index(">")]).group(1)
        for attr in ("width", "height", "viewBox")
    )
    title_id, desc_id = f"lifecycle-{name}-title", f"lifecycle-{name}-desc"
    title = f"The life of {record}: each box is a state and each arrow an action"
    moves = "; ".join(_sentence(lifecycle, action) for action in lifecycle.actions.values())
    desc = f"It starts as {lifecycle.states[lifecycle.initial]}. {moves}. The table below says who may act."
    header = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="{view_box}" role="img" aria-labelledby="{title_id}" aria-describedby="{desc_id}">'
        f'\n<title id="{title_id}">{escape(title)}</title>'
        f'\n<desc id="{desc_id}">{escape(desc)}</desc>'
    )
    body = svg[svg.index(">") + 1 :]
    return header + body.rstrip() + "\n"


def _sentence(lifecycle: Lifecycle, action: Action) -> str:
    sources = " or ".join(lifecycle.states[s] for s in action.sources)
    if action.dest is None:
        return f"{action.label} leaves {sources} as it is"
    dests = " or ".join(lifecycle.states[d] for d in action.destinations)
    return f"{action.label} moves {sources} to {dests}"


def main() -> None:
    for path in write_all():
        print(f"Wrote {path.relative_to(STATIC.parents[1])}")


if __name__ == "__main__":
    main()
