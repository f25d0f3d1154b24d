"""Draw a lifecycle as SVG straight from its definition, on the server (no JavaScript).

States are placed in rows by their distance from the initial state; each action is an
arrow labelled with its name. Because the picture is computed from ``workflow.py`` it
cannot drift from what the code enforces.
"""

from __future__ import annotations

from collections import deque
from functools import lru_cache
from html import escape

from ..workflow import Lifecycle

BOX_W, BOX_H, COL_GAP, ROW_GAP, MARGIN = 220, 44, 40, 70, 40
EDGE = 'fill="none" stroke="#505a5f" stroke-width="1.5" marker-end="url(#arrow)"'
LABEL = (
    'font-family="arial, sans-serif" font-size="13" fill="#0b0c0c" stroke="#ffffff" '
    'stroke-width="4" paint-order="stroke" text-anchor="middle"'
)


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
    # End states sit one row below the latest state that leads to them, so arrows into
    # them point down instead of crossing a row sideways.
    for state, outgoing in edges.items():
        if not [d for d in outgoing if d != state]:
            sources = [s for s, dests in edges.items() if state in dests and s != state]
            if sources:
                rank[state] = max(rank[s] for s in sources) + 1
    return rank


@lru_cache(maxsize=4)
def lifecycle_svg(lifecycle: Lifecycle) -> str:
    rank = _ranks(lifecycle)
    rows: dict[int, list[str]] = {}
    for state in sorted(lifecycle.states, key=lambda st: _earliest_source(lifecycle, rank, st)):
        rows.setdefault(rank[state], []).append(state)
    widest = max(len(states) for states in rows.values())
    width = MARGIN * 2 + widest * BOX_W + (widest - 1) * COL_GAP + 120
    pos: dict[str, tuple[float, float]] = {}
    for row, states in rows.items():
        row_width = len(states) * BOX_W + (len(states) - 1) * COL_GAP
        left = (width - row_width) / 2
        for i, state in enumerate(states):
            pos[state] = (left + i * (BOX_W + COL_GAP), MARGIN + row * (BOX_H + ROW_GAP))
    height = MARGIN * 2 + len(rows) * (BOX_H + ROW_GAP) - ROW_GAP
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height}" '
        f'width="100%" role="img" aria-labelledby="lifecycle-title">',
        f'<title id="lifecycle-title">The {escape(lifecycle.name)} lifecycle: each box is a '
        "state and each arrow an action that moves a record between states</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#505a5f"/></marker></defs>',
    ]
    labels: list[str] = []
    lanes = iter(range(100))
    for action in lifecycle.actions.values():
        for source in action.sources:
            for dest in action.destinations or (source,):
                if rank[dest] - rank[source] > 1:
                    path, label = _long_edge(pos[source], pos[dest], next(lanes), action.name)
                else:
                    path, label = _edge(pos[source], pos[dest], rank[source], rank[dest], action.name)
                parts.append(path)
                labels.append(label)
    for state, text in lifecycle.states.items():
        x, y = pos[state]
        initial = state == lifecycle.initial
        parts.append(
            f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="4" '
            f'fill="{"#1d70b8" if initial else "#ffffff"}" stroke="#0b0c0c" stroke-width="2"/>'
            f'<text x="{x + BOX_W / 2}" y="{y + BOX_H / 2 + 5}" text-anchor="middle" '
            f'font-family="arial, sans-serif" font-size="15" font-weight="bold" '
            f'fill="{"#ffffff" if initial else "#0b0c0c"}">{escape(text)}</text>'
        )
    parts.extend(labels)  # labels last, so they sit on top of the lines
    parts.append("</svg>")
    return "".join(parts)


def _earliest_source(lifecycle: Lifecycle, rank: dict[str, int], state: str) -> int:
    sources = [rank[s] for a in lifecycle.actions.values() if state in a.destinations for s in a.sources]
    return min(sources, default=-1)


def _long_edge(a, b, lane: int, name: str) -> tuple[str, str]:
    """An arrow skipping rows: out of the source's left side, down a lane at the left
    margin, across the gap above the destination's row, and into its top."""
    (ax, ay), (bx, by) = a, b
    x1, y1 = ax, ay + BOX_H / 2 + 6
    lane_x = MARGIN - 10 + lane * 14
    gap_y = by - 16 - lane * 8
    x2 = bx + 30 + lane * 24
    return (
        f'<path d="M {x1} {y1} L {lane_x} {y1} L {lane_x} {gap_y} L {x2} {gap_y} L {x2} {by}" {EDGE}/>',
        f'<text x="{x1 - 8}" y="{y1 - 6}" {LABEL} text-anchor="end">{escape(name.replace("_", " "))}</text>',
    )


def _edge(a, b, rank_a: int, rank_b: int, name: str) -> tuple[str, str]:
    (ax, ay), (bx, by) = a, b
    text = escape(name.replace("_", " "))
    if a == b:  # an action that keeps the state: a loop above the top-right corner
        x, y = ax + BOX_W - 50, ay
        return (
            f'<path d="M {x} {y} C {x} {y - 28}, {x + 36} {y - 28}, {x + 36} {y}" {EDGE}/>',
            f'<text x="{x + 18}" y="{y - 24}" {LABEL}>{text}</text>',
        )
    if rank_b > rank_a:  # downwards: bottom centre to top centre
        x1, y1, x2, y2 = ax + BOX_W / 2, ay + BOX_H, bx + BOX_W / 2, by
        mid = (y1 + y2) / 2
        return (
            f'<path d="M {x1} {y1} C {x1} {mid}, {x2} {mid}, {x2} {y2}" {EDGE}/>',
            f'<text x="{(x1 + x2) / 2}" y="{mid + 4}" {LABEL}>{text}</text>',
        )
    if rank_b == rank_a:  # sideways within a row
        left_to_right = bx > ax
        x1 = ax + BOX_W if left_to_right else ax
        x2 = bx if left_to_right else bx + BOX_W
        y = ay + BOX_H / 2
        return (
            f'<path d="M {x1} {y} L {x2} {y}" {EDGE}/>',
            f'<text x="{(x1 + x2) / 2}" y="{y - 8}" {LABEL}>{text}</text>',
        )
    # upwards: out of the left side, round, into the left side of the earlier state
    x1, y1, x2, y2 = ax, ay + BOX_H / 2 + 8, bx, by + BOX_H / 2 + 8
    out = min(x1, x2) - 60
    return (
        f'<path d="M {x1} {y1} C {out} {y1}, {out} {y2}, {x2} {y2}" {EDGE}/>',
        f'<text x="{out + 10}" y="{(y1 + y2) / 2}" {LABEL}>{text}</text>',
    )
