"""The value-for-money page's charts, drawn on the server as SVG with matplotlib, so they
work without JavaScript. Each chart is drawn from the report's objects
(:func:`fundflow.reports.value_for_money`); the page states each chart's finding in words
and shows its data in a table beside it, so the picture is never the only way to read it.

matplotlib is imported on first use (not when the site starts), uses the Agg backend
through :class:`~matplotlib.figure.Figure` (no pyplot state shared between requests), and
writes text as text (``svg.fonttype`` ``none``), keeping each file small.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from markupsafe import escape

from ..models.impact import DRIVER_LABELS, RATING_LABELS, RATINGS

# GOV.UK colours, each at least 3:1 against white (WCAG 1.4.11).
BLUE = "#1d70b8"
DARK_BLUE = "#003078"
GREEN = "#00703c"
PURPLE = "#4c2c92"
RED = "#d4351c"
GREY = "#505a5f"
TEXT = "#0b0c0c"
RESULT_COLOURS = {"achieved": GREEN, "part_way": PURPLE, "not_achieved": RED}
RESULT_LABELS = {"achieved": "Achieved", "part_way": "Part-way", "not_achieved": "Not achieved"}
RATING_COLOURS = {"achieved": GREEN, "partly_achieved": PURPLE, "not_achieved": RED}

WIDTH, HEIGHT = 7.2, 3.6  # inches; the page scales the image to its column
#: Text as text (small files, crisp at any size), no random ids, GOV.UK's sans-serif look.
RC = {"svg.fonttype": "none", "svg.hashsalt": "fundflow", "font.family": "sans-serif", "font.size": 12}


def pounds_label(pence: float) -> str:
    """An axis tick in whole pounds: 1234500 → '£12,345'."""
    return f"£{pence / 100:,.0f}"


def _figure(height: float = HEIGHT) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(WIDTH, height), dpi=96)


def _margins(
    figure: Any, *, left: float = 1.0, bottom: float = 0.5, top: float = 0.15, **spacing: float
) -> None:
    """Fixed margins in inches (a layout engine would draw every chart twice)."""
    width, height = figure.get_size_inches()
    figure.subplots_adjust(
        left=left / width, right=1 - 0.2 / width, bottom=bottom / height, top=1 - top / height, **spacing
    )


def _label_room(labels: list[str]) -> float:
    """Inches for the longest line of the category labels, at the tick font size."""
    longest = max((len(line) for label in labels for line in label.split("\n")), default=4)
    return 0.25 + 0.085 * longest


def _style(axes: Any) -> None:
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.tick_params(colors=TEXT, labelsize=11)
    axes.grid(axis="both", color="#b1b4b6", linewidth=0.5, alpha=0.6)
    axes.set_axisbelow(True)


def _pounds_axis(axis: Any) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda value, _: pounds_label(value)))


def _empty(axes: Any, message: str) -> None:
    axes.text(0.5, 0.5, message, ha="center", va="center", color=GREY, fontsize=12, transform=axes.transAxes)
    axes.set_axis_off()


def _svg(figure: Any, title: str) -> str:
    """The figure as SVG text, with a <title> (its accessible name when opened on its own)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    start = text.index("<svg")
    end = text.index(">", start) + 1
    opening = text[start:end].replace("<svg", '<svg role="img" aria-labelledby="chart-title"', 1)
    return text[:start] + opening + f'\n <title id="chart-title">{escape(title)}</title>' + text[end:]


def spend_over_time(report: dict[str, Any]) -> Any:
    """Cumulative payments by month, against the budget."""
    money = report["money"]
    months = money["spend_over_time"]
    figure = _figure()
    axes = figure.add_subplot()
    if not months:
        _empty(axes, "No payments yet")
        return figure
    labels = [month_name(m["month"], short=True) for m in months]
    axes.plot(
        labels,
        [m["cumulative_paid_pence"] for m in months],
        color=BLUE,
        linewidth=2.5,
        marker="o",
        label="Paid so far",
    )
    axes.axhline(money["budget_pence"], color=RED, linestyle="--", linewidth=1.5, label="Budget")
    axes.axhline(money["committed_pence"], color=GREY, linestyle=":", linewidth=1.5, label="Committed")
    axes.set_ylim(bottom=0, top=max(money["budget_pence"], money["committed_pence"], 1) * 1.08)
    _pounds_axis(axes.yaxis)
    axes.tick_params(axis="x", labelrotation=45 if len(labels) > 6 else 0)
    axes.legend(frameon=False, loc="center left", fontsize=11)  # below the budget line
    _style(axes)
    _margins(figure, bottom=0.9 if len(labels) > 6 else 0.5)
    return figure


def spend_by_priority_area(report: dict[str, Any]) -> Any:
    """Committed money of the bids naming each priority area (horizontal bars)."""
    areas = [a for a in report["outcomes"]["by_priority_area"] if a.get("committed_pence") is not None]
    figure = _figure(max(2.4, 0.4 * len(areas) + 1))
    axes = figure.add_subplot()
    if not areas:
        _empty(axes, "No money committed to a priority area")
        return figure
    areas = areas[::-1]  # largest first from the top
    names = [_wrap(a["priority_area"]) for a in areas]
    axes.barh(names, [a["committed_pence"] for a in areas], color=BLUE)
    _pounds_axis(axes.xaxis)
    _style(axes)
    _margins(figure, left=_label_room(names), bottom=0.45, top=0.2)
    return figure


def _stacked(
    axes: Any, names: list[str], counts: list[dict[str, int]], keys: dict[str, str], colours: dict[str, str]
) -> None:
    left = [0] * len(names)
    for key, label in keys.items():
        values = [c.get(key, 0) for c in counts]
        axes.barh(names, values, left=left, color=colours[key], label=label, edgecolor="white")
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.legend(frameon=False, fontsize=11, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=len(keys))
    axes.xaxis.get_major_locator().set_params(integer=True)
    _style(axes)


def outcomes_by_priority_area(report: dict[str, Any]) -> Any:
    """Measures achieved, part-way and not achieved in each priority area (stacked bars)."""
    areas = report["outcomes"]["by_priority_area"][::-1]
    figure = _figure(max(2.6, 0.4 * len(areas) + 1.2))
    axes = figure.add_subplot()
    if not any(a["achieved"] + a["part_way"] + a["not_achieved"] for a in areas):
        _empty(axes, "No measure has a result yet")
        return figure
    names = [_wrap(a["priority_area"]) for a in areas]
    _stacked(axes, names, areas, RESULT_LABELS, RESULT_COLOURS)
    axes.set_xlabel("Measures with a result", color=TEXT)
    _margins(figure, left=_label_room(names), bottom=0.7, top=0.45)
    return figure


def outcomes_by_driver(report: dict[str, Any]) -> Any:
    """The liaison officer's ratings of the impact reports for each improvement driver."""
    drivers = report["outcomes"]["by_driver"][::-1]
    figure = _figure(2.8)
    axes = figure.add_subplot()
    if not any(sum(d["ratings"].values()) for d in drivers):
        _empty(axes, "No impact report has been rated yet")
        return figure
    names = [_wrap(d.get("label") or DRIVER_LABELS.get(d["driver"], d["driver"])) for d in drivers]
    _stacked(
        axes, names, [d["ratings"] for d in drivers], {r: RATING_LABELS[r] for r in RATINGS}, RATING_COLOURS
    )
    axes.set_xlabel("Ratings of impact reports", color=TEXT)
    _margins(figure, left=_label_room(names), bottom=0.7, top=0.45)
    return figure


def targeting(report: dict[str, Any]) -> Any:
    """Committed money by the supported schools' free school meals band, and the share
    reaching schools causing concern."""
    target = report["targeting"]
    figure = _figure()
    bands_axes, concern_axes = figure.subplots(1, 2, width_ratios=[2.4, 1])
    bands = target["by_fsm_band"]
    if any(b["committed_pence"] for b in bands):
        bands_axes.bar(
            [_wrap(b["band"], 8) for b in bands], [b["committed_pence"] for b in bands], color=BLUE
        )
        _pounds_axis(bands_axes.yaxis)
        bands_axes.set_title("By free school meals share", fontsize=11, color=TEXT)
        _style(bands_axes)
    else:
        _empty(bands_axes, "No money committed yet")
    share = target["share_to_schools_causing_concern"]
    if share is None:
        _empty(concern_axes, "No money committed yet")
    else:
        concern_axes.bar(
            ["Causing\nconcern", "Others"], [share * 100, (1 - share) * 100], color=[DARK_BLUE, GREY]
        )
        concern_axes.set_ylim(0, 100)
        concern_axes.set_ylabel("% of committed money", color=TEXT, fontsize=10)
        concern_axes.set_title("Causing concern", fontsize=11, color=TEXT)
        _style(concern_axes)
    _margins(figure, bottom=0.75, top=0.35, wspace=0.55)
    return figure


def _wrap(text: str, width: int = 28) -> str:
    """Break a long label onto lines of about ``width`` characters."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + len(word) < width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "\n".join(lines)


#: The charts by the name in their address, with their titles.
CHARTS: dict[str, tuple[str, Callable[[dict[str, Any]], Any]]] = {
    "spend-over-time": ("Spend over time against the budget", spend_over_time),
    "spend-by-priority-area": ("Money committed by priority area", spend_by_priority_area),
    "outcomes-by-priority-area": ("Measures achieved by priority area", outcomes_by_priority_area),
    "outcomes-by-driver": ("Impact report ratings by improvement driver", outcomes_by_driver),
    "targeting": ("Where the money went: free school meals and schools causing concern", targeting),
}


def chart_svg(name: str, report: dict[str, Any]) -> str:
    """The chart ``name`` (a key of :data:`CHARTS`) of ``report`` as SVG text."""
    from matplotlib import rc_context

    title, draw = CHARTS[name]
    with rc_context(RC):  # while drawing (fonts) and saving (SVG settings)
        return _svg(draw(report), title)


# --------------------------------------------------------------------------------------
# Each chart's main finding in words: the image's alternative text
# --------------------------------------------------------------------------------------


def _money(pence: int | None) -> str:
    from ..formatting import money

    return money(pence)


def _share(part: float | None) -> str:
    return "no share" if part is None else f"{part * 100:.0f}%"


def month_name(month: str, short: bool = False) -> str:
    """'2026-09' → 'September 2026' (or 'Sep 2026' when ``short``)."""
    from datetime import date

    year, number = (int(part) for part in month.split("-"))
    return date(year, number, 1).strftime("%b %Y" if short else "%B %Y")


def _spend_finding(report: dict[str, Any]) -> str:
    money = report["money"]
    months = money["spend_over_time"]
    if not months:
        return f"No payments yet against the budget of {_money(money['budget_pence'])}."
    paid, budget = months[-1]["cumulative_paid_pence"], money["budget_pence"]
    share = _share(paid / budget) if budget else "no share"
    return (
        f"{_money(paid)} paid by {month_name(months[-1]['month'])}, {share} of the budget of "
        f"{_money(budget)}; {_money(money['committed_pence'])} is committed."
    )


def _area_spend_finding(report: dict[str, Any]) -> str:
    areas = [a for a in report["outcomes"]["by_priority_area"] if a.get("committed_pence")]
    if not areas:
        return "No money is committed to bids naming a priority area."
    areas.sort(key=lambda a: -a["committed_pence"])
    text = f"Most money is committed to {areas[0]['priority_area']} ({_money(areas[0]['committed_pence'])})"
    if len(areas) > 1:
        text += f", then {areas[1]['priority_area']} ({_money(areas[1]['committed_pence'])})"
    return text + "."


def _outcomes_finding(report: dict[str, Any]) -> str:
    outcomes = report["outcomes"]
    if not outcomes["with_result"]:
        return f"None of the {outcomes['measures']} measures has a result yet."
    text = (
        f"{outcomes['achieved']} of the {outcomes['with_result']} measures with a result were achieved "
        f"({_share(outcomes['share_achieved'])}), {outcomes['part_way']} part-way and "
        f"{outcomes['not_achieved']} not achieved"
    )
    rated = [a for a in outcomes["by_priority_area"] if a["share_achieved"] is not None]
    if len(rated) > 1:
        best = max(rated, key=lambda a: a["share_achieved"])
        text += f"; the highest share is in {best['priority_area']} ({_share(best['share_achieved'])})"
    return text + "."


def _driver_finding(report: dict[str, Any]) -> str:
    drivers = report["outcomes"]["by_driver"]
    parts = [
        f"{d.get('label') or DRIVER_LABELS.get(d['driver'], d['driver'])}: "
        f"{d['ratings'].get('achieved', 0)} of {sum(d['ratings'].values())} rated achieved"
        for d in drivers
        if sum(d["ratings"].values())
    ]
    if not parts:
        return "No impact report has been rated yet."
    return "Impact reports rated achieved by improvement driver. " + "; ".join(parts) + "."


def _targeting_finding(report: dict[str, Any]) -> str:
    target = report["targeting"]
    if not target["committed_pence"]:
        return "No money is committed yet, so none has reached any school."
    share = _share(target["share_to_schools_causing_concern"])
    text = f"{share} of the committed money reaches schools causing concern"
    bands = [b for b in target["by_fsm_band"] if b["committed_pence"]]
    if bands:
        top = max(bands, key=lambda b: b["committed_pence"])
        band = top["band"].lower()
        text += f"; the most, {_share(top['share'])}, goes to schools whose free school meals share is {band}"
    return text + "."


FINDINGS: dict[str, Callable[[dict[str, Any]], str]] = {
    "spend-over-time": _spend_finding,
    "spend-by-priority-area": _area_spend_finding,
    "outcomes-by-priority-area": _outcomes_finding,
    "outcomes-by-driver": _driver_finding,
    "targeting": _targeting_finding,
}


def finding(name: str, report: dict[str, Any]) -> str:
    """The main finding of chart ``name`` in a sentence (its image's alternative text)."""
    return FINDINGS[name](report)
