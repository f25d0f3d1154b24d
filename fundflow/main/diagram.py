"""Draw a lifecycle as SVG straight from its definition, on the server (no JavaScript).

States are placed in columns by their distance from the initial state; each action is an
arrow labelled with its name. Because the picture is computed from ``workflow.py`` it
cannot drift from what the code enforces.
"""

from __future__ import annotations

from collections import deque
from functools import lru_cache
from html import escape

from ..workflow import Lifecycle

BOX_W, BOX_H, COL_GAP, ROW_GAP, MARGIN = 170, 44, 90, 36, 20


def _ranks(lifecycle: Lifecycle) -> dict[str, int]:
    edges: dict[str, list[str]] = {s: [] for s in lifecycle.states}
    for action in lifecycle.actions.values():
        for source in action.sources:
            edges[source].extend(action.destinations)
    rank = {lifecycle.initial: 0}
    queue = deque([lifecycle.initial])
    while queue:
        state = queue.popleft()
        for nxt in edges[state]:
            if nxt not in rank:
                rank[nxt] = rank[state] + 1
                queue.append(nxt)
    for state in lifecycle.states:
        rank.setdefault(state, max(rank.values()) + 1)
    return rank


@lru_cache(maxsize=4)
def lifecycle_svg(lifecycle: Lifecycle) -> str:
    rank = _ranks(lifecycle)
    columns: dict[int, list[str]] = {}
    for state in lifecycle.states:
        columns.setdefault(rank[state], []).append(state)
    pos: dict[str, tuple[int, int]] = {}
    for col, states in columns.items():
        for row, state in enumerate(states):
            pos[state] = (MARGIN + col * (BOX_W + COL_GAP), MARGIN + 20 + row * (BOX_H + ROW_GAP))
    width = MARGIN * 2 + len(columns) * (BOX_W + COL_GAP) - COL_GAP
    height = MARGIN * 2 + 20 + max(len(s) for s in columns.values()) * (BOX_H + ROW_GAP)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="lifecycle-title">',
        f'<title id="lifecycle-title">The {escape(lifecycle.name)} lifecycle: states and the '
        "actions that move between them</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#0b0c0c"/></marker></defs>',
    ]
    for action in lifecycle.actions.values():
        for source in action.sources:
            for dest in action.destinations or (source,):
                parts.append(_edge(pos[source], pos[dest], action.name, source == dest))
    for state, label in lifecycle.states.items():
        x, y = pos[state]
        fill = "#1d70b8" if state == lifecycle.initial else "#ffffff"
        colour = "#ffffff" if state == lifecycle.initial else "#0b0c0c"
        parts.append(
            f'<g><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="4" fill="{fill}" '
            f'stroke="#0b0c0c" stroke-width="2"/>'
            f'<text x="{x + BOX_W / 2}" y="{y + BOX_H / 2 + 5}" text-anchor="middle" '
            f'font-family="arial, sans-serif" font-size="15" font-weight="bold" fill="{colour}">'
            f"{escape(label)}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _edge(a: tuple[int, int], b: tuple[int, int], label: str, loop: bool) -> str:
    ax, ay = a
    bx, by = b
    text = escape(label.replace("_", " "))
    style = 'fill="none" stroke="#505a5f" stroke-width="1.5" marker-end="url(#arrow)"'
    font = 'font-family="arial, sans-serif" font-size="12" fill="#0b0c0c"'
    if loop:
        x, y = ax + BOX_W - 30, ay
        return (
            f'<path d="M {x} {y} C {x} {y - 30}, {x + 40} {y - 30}, {x + 30} {y}" {style}/>'
            f'<text x="{x + 20}" y="{y - 26}" text-anchor="middle" {font}>{text}</text>'
        )
    if bx > ax:  # forward: right edge to left edge
        x1, y1, x2, y2 = ax + BOX_W, ay + BOX_H / 2, bx, by + BOX_H / 2
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        return (
            f'<path d="M {x1} {y1} C {mx} {y1}, {mx} {y2}, {x2} {y2}" {style}/>'
            f'<text x="{mx}" y="{my - 4}" text-anchor="middle" {font}>{text}</text>'
        )
    # backward: bottom of the source, curving below, to the bottom of the destination
    x1, y1, x2, y2 = ax + BOX_W / 2, ay + BOX_H, bx + BOX_W / 2, by + BOX_H
    low = max(y1, y2) + 40
    return (
        f'<path d="M {x1} {y1} C {x1} {low}, {x2} {low}, {x2} {y2}" {style}/>'
        f'<text x="{(x1 + x2) / 2}" y="{low - 6}" text-anchor="middle" {font}>{text}</text>'
    )
