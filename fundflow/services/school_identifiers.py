"""Each UK nation's official school identifier, checked and normalised in one place.

| nation           | identifier                         | written          | stored    |
| ---------------- | ---------------------------------- | ---------------- | --------- |
| England          | URN (GIAS)                         | 6 digits         | as given  |
| Wales            | school number: LA code + number    | 7 digits         | as given  |
| Scotland         | SEED code                          | 7 digits         | as given  |
| Northern Ireland | DE reference number                | NNN-NNNN/NNNNNNN | NNN-NNNN  |

The admin school form, the API and every import call :func:`normalise`; so do the
councils' GSS codes (:func:`council_gss_code`), looked up from their names as the Welsh
and Scottish lists write them.
"""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path

from ..models.school import IDENTIFIER_NAMES, NATION_LABELS, NATIONS

#: How the command line and the API may write a nation.
_NATION_SPELLINGS = {
    **{nation: nation for nation in NATIONS},
    **{label.lower(): nation for nation, label in NATION_LABELS.items()},
    "northern-ireland": "northern_ireland",
}

_DIGITS = {"england": 6, "wales": 7, "scotland": 7}
_NI = re.compile(r"^(\d{3})-?(\d{4})$", re.ASCII)
COUNCILS_FILE = Path(__file__).resolve().parent.parent / "data" / "councils.csv"


class InvalidIdentifier(ValueError):
    """An identifier that does not fit its nation's format; the message says why, plainly."""


def nation_of(value: str | None) -> str | None:
    """The stored nation for "wales", "Northern Ireland", "northern-ireland"…; ``None`` if unknown."""
    return _NATION_SPELLINGS.get(" ".join((value or "").split()).lower())


def normalise(nation: str, value: object) -> str:
    """The identifier as stored, or :class:`InvalidIdentifier` with a plain-English reason."""
    if nation not in NATIONS:
        raise InvalidIdentifier("Choose England, Wales, Scotland or Northern Ireland")
    text = "".join(str(value if value is not None else "").split())
    name = IDENTIFIER_NAMES[nation]
    if nation == "northern_ireland":
        match = _NI.match(text)
        if not match:
            raise InvalidIdentifier(
                f"Enter the school's 7-digit {name}, written like 123-4567 or 1234567"
                + (f" (“{text[:20]}” is not)" if text else "")
            )
        return f"{match.group(1)}-{match.group(2)}"
    digits = _DIGITS[nation]
    if len(text) == digits and text.isascii() and text.isdigit():
        return text
    wanted = {
        "england": "Enter the school's 6-digit URN, as GIAS gives it",
        "wales": "Enter the school's 7-digit school number: the council's 3-digit code, "
        "then the school's 4-digit number",
        "scotland": "Enter the school's 7-digit SEED code, as the Scottish Government's school list gives it",
    }[nation]
    raise InvalidIdentifier(wanted + (f" (“{text[:20]}” is not)" if text else ""))


def problem(nation: str, value: object) -> str | None:
    """The reason ``value`` is not a valid identifier for ``nation``, or ``None``."""
    try:
        normalise(nation, value)
    except InvalidIdentifier as exc:
        return str(exc)
    return None


def _key(name: str) -> str:
    text = name.lower().replace("&", " and ")
    text = re.sub(r"[^a-z0-9ô]+", " ", text)
    words = [w for w in text.split() if w not in {"the", "council", "county", "borough"}]
    return " ".join(words)


@cache
def _councils() -> dict[tuple[str, str], str]:
    table: dict[tuple[str, str], str] = {}
    with COUNCILS_FILE.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            for name in [row["name"], *filter(None, row["other_names"].split("|"))]:
                table[(row["nation"], _key(name))] = row["gss_code"]
    return table


def council_gss_code(nation: str, name: str | None) -> str:
    """The GSS code of a Welsh or Scottish council from its name ("Perth & Kinross",
    "Vale of Glamorgan"); "" when the table does not know it (fundflow never guesses one)."""
    return _councils().get((nation, _key(name or "")), "")
