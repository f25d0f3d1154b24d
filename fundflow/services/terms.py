"""School-term dates that set when interim impact reports fall due.

English (and Welsh) schools have three terms, each split by a half-term holiday. Term dates
differ a little by council and year, so reports are due on fixed days shortly before each
(half) term ends: a school writes the report before the holiday, and a liaison officer can
move any date on the award's schedule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from .errors import ValidationFailed

if TYPE_CHECKING:
    from ..models import Fund

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


# --------------------------------------------------------------------------------------
# Terms of the school year, as the termly report names them
# --------------------------------------------------------------------------------------

#: Each calendar's terms in school-year order, each with its first and last (month, day)
#: and the year they fall in counted from the year the school year starts (0: that year, 1:
#: the next). English and Welsh schools teach three terms (the school year from 1 September,
#: the summer holiday counted with the summer term); Scottish schools four (the school year
#: from mid-August: 1 August to 31 July here, so every day is in a term).
CALENDARS: dict[str, dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]]] = {
    "three_terms": {
        "autumn": ((0, 9, 1), (0, 12, 31)),
        "spring": ((1, 1, 1), (1, 3, 31)),
        "summer": ((1, 4, 1), (1, 8, 31)),
    },
    "four_terms": {
        "autumn": ((0, 8, 1), (0, 10, 31)),
        "winter": ((0, 11, 1), (0, 12, 31)),
        "spring": ((1, 1, 1), (1, 3, 31)),
        "summer": ((1, 4, 1), (1, 7, 31)),
    },
}
THREE_TERMS = "three_terms"
#: The three terms of England and Wales, in order (the names the API has always taken).
TERM_SEASONS = tuple(CALENDARS[THREE_TERMS])
TERM_PATTERN = re.compile(r"^(\d{4})-(autumn|winter|spring|summer)$")


@dataclass(frozen=True, order=True)
class Term:
    """A term of the school year that starts in ``year``. In three terms (England and
    Wales): ``2026-autumn`` is 1 September to 31 December 2026, ``2026-spring`` 1 January to
    31 March 2027 and ``2026-summer`` 1 April to 31 August 2027. In four (Scotland):
    ``2026-autumn`` 1 August to 31 October 2026, ``2026-winter`` November and December,
    ``2026-spring`` 1 January to 31 March 2027 and ``2026-summer`` 1 April to 31 July 2027."""

    year: int
    index: int  # the order the terms come in: 0 autumn, then (winter,) spring, summer
    calendar: str = THREE_TERMS

    @property
    def seasons(self) -> tuple[str, ...]:
        return tuple(CALENDARS[self.calendar])

    @property
    def season(self) -> str:
        return self.seasons[self.index]

    @property
    def code(self) -> str:
        """How a URL names it: ``2026-autumn``."""
        return f"{self.year}-{self.season}"

    @property
    def starts_on(self) -> date:
        offset, month, day = CALENDARS[self.calendar][self.season][0]
        return date(self.year + offset, month, day)

    @property
    def ends_on(self) -> date:
        offset, month, day = CALENDARS[self.calendar][self.season][1]
        return date(self.year + offset, month, day)

    @property
    def label(self) -> str:
        """In words: "autumn term 2026", "spring term 2027" (the calendar year it is in)."""
        return f"{self.season} term {self.starts_on.year}"

    @property
    def school_year(self) -> str:
        """The school year it belongs to: "2026 to 2027"."""
        return f"{self.year} to {self.year + 1}"

    def next(self) -> Term:
        count = len(self.seasons)
        return Term(self.year + (self.index + 1) // count, (self.index + 1) % count, self.calendar)

    def overlaps(self, first: date, last: date) -> bool:
        return self.starts_on <= last and first <= self.ends_on


class BadTerm(ValueError):
    """The text is not one of the calendar's terms written like ``2026-autumn``."""


def _examples(calendar: str) -> str:
    names = [f"2026-{season}" for season in CALENDARS[calendar]]
    return f"{', '.join(names[:-1])} or {names[-1]}"


def parse_term(text: str | None, calendar: str = THREE_TERMS) -> Term:
    """``2026-autumn`` → :class:`Term` of ``calendar``; anything else (other words, a term
    the calendar does not have, a year outside 2000–2100) raises :class:`BadTerm` with a
    sentence to show."""
    found = TERM_PATTERN.match((text or "").strip().lower())
    seasons = tuple(CALENDARS[calendar])
    if not found or not 2000 <= int(found.group(1)) <= 2100 or found.group(2) not in seasons:
        raise BadTerm(f"Enter a term like {_examples(calendar)}")
    return Term(int(found.group(1)), seasons.index(found.group(2)), calendar)


def term_of(day: date, calendar: str = THREE_TERMS) -> Term:
    """The term of ``calendar`` that ``day`` falls in."""
    for year in (day.year, day.year - 1):
        for index in range(len(CALENDARS[calendar])):
            term = Term(year, index, calendar)
            if term.starts_on <= day <= term.ends_on:
                return term
    raise AssertionError(f"{day} is in no term")  # the calendars cover every day


def terms_between(first: date, last: date, calendar: str = THREE_TERMS) -> list[Term]:
    """Every term that overlaps ``first`` … ``last``, in order."""
    found, term = [], term_of(first, calendar)
    while term.starts_on <= last:
        found.append(term)
        term = term.next()
    return found


def calendar_of(fund: Fund) -> str:
    """The school-term calendar of the organisation running ``fund``."""
    organisation = fund.organisation
    return organisation.term_calendar if organisation is not None else THREE_TERMS


def fund_span(fund: Fund) -> tuple[date, date]:
    """The days a fund's termly reports may cover: from it opening to the end of delivery,
    widened to its whole financial year (1 April to 31 March, from ``financial_year`` like
    "2026-27") where that is wider, so a report can cover the term a fund's budget was set
    in before it opened for bids."""
    first, last = fund.opens_on, fund.delivery_ends_on
    found = re.match(r"^(\d{4})-\d{2}$", fund.financial_year or "")
    if found:
        year = int(found.group(1))
        first, last = min(first, date(year, 4, 1)), max(last, date(year + 1, 3, 31))
    return first, last


def fund_terms(fund: Fund) -> list[Term]:
    """The terms a fund's termly report can be made for, in order."""
    return terms_between(*fund_span(fund), calendar_of(fund))


def fund_term(fund: Fund, text: str | None) -> Term:
    """The term ``text`` names, if it is one of the fund's; otherwise a validation failure
    on the field ``term`` (422 in the API, an error message on the page)."""
    try:
        term = parse_term(text, calendar_of(fund))
    except BadTerm as error:
        raise ValidationFailed({"term": [str(error)]}) from None
    first, last = fund_span(fund)
    if not term.overlaps(first, last):
        terms = fund_terms(fund)
        raise ValidationFailed(
            {"term": [f"Choose a term of {fund.name}: from the {terms[0].label} to the {terms[-1].label}"]}
        )
    return term


def default_term(fund: Fund, today: date) -> Term:
    """The term a report opens on when none is chosen: today's, if it is one of the fund's;
    otherwise the fund's last term (a fund that has finished) or its first (one to come)."""
    terms = fund_terms(fund)
    current = term_of(today, calendar_of(fund))
    if current in terms:
        return current
    return terms[-1] if current > terms[-1] else terms[0]
