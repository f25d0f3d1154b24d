"""School-term dates that set when interim impact reports fall due.

English (and Welsh) schools have three terms, each split by a half-term holiday. Term dates
differ a little by council and year, so reports are due on fixed days shortly before each
(half) term ends: a school writes the report before the holiday, and a liaison officer can
move any date on the award's schedule.
"""

from __future__ import annotations

from datetime import date, timedelta

#: (month, day) a termly report is due: before Christmas, before Easter, before summer.
TERMLY = ((12, 12), (3, 27), (7, 17))
#: (month, day) a half-termly report is due: the three above and each half-term's end.
HALF_TERMLY = ((10, 17), (12, 12), (2, 6), (3, 27), (5, 22), (7, 17))

CADENCES = {
    "termly": "Each term",
    "half_termly": "Each half term",
    "set_by_officer": "On dates the liaison officer sets when approving",
}

#: An interim report is not due in the first weeks of an award, nor just before the final one.
SETTLING_IN = timedelta(days=28)
BEFORE_FINAL = timedelta(days=28)


def interim_dates(cadence: str, start: date, final_due: date) -> list[date]:
    """Interim report dates for an award approved on ``start`` whose final report is due on
    ``final_due``: each term (or half-term) date from four weeks after approval to four
    weeks before the final report. Empty for "set_by_officer" (the officer gives them)."""
    days = {"termly": TERMLY, "half_termly": HALF_TERMLY}.get(cadence, ())
    first, last = start + SETTLING_IN, final_due - BEFORE_FINAL
    found = []
    for year in range(first.year, last.year + 1):
        for month, day in days:
            when = date(year, month, day)
            if first <= when <= last:
                found.append(when)
    return sorted(found)
