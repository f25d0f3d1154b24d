"""Import schools from the GIAS establishments CSV ("edubasealldata").

The national file is Windows-1252, about 60 MB with some 140 columns. It is streamed row
by row; only the columns fundflow uses are read. Rows are matched on URN, so importing the
same file twice changes nothing the second time.

Every establishment is kept with its status ("EstablishmentStatus (name)": open, open but
proposed to close, proposed to open, closed), closed ones included: a school that closes is
updated in place, so every bid it took part in still shows its name, and the bid services
refuse to name a closed school on a new bid.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, BinaryIO

from sqlalchemy import select

from ..extensions import db
from ..models import School, User
from ..models.school import STATUS_LABELS
from . import audit
from .admin import SchoolInput, require_admin, validate_school
from .errors import ValidationFailed
from .unit_of_work import transaction

COLUMNS = {
    "urn": "URN",
    "name": "EstablishmentName",
    "la_code": "LA (code)",
    "la_name": "LA (name)",
    "phase": "PhaseOfEducation (name)",
    "establishment_type": "TypeOfEstablishment (name)",
    "status": "EstablishmentStatus (name)",
    "trust": "Trusts (name)",
    "postcode": "Postcode",
    "pupils": "NumberOfPupils",
    "fsm_percent": "PercentageFSM",
}
REQUIRED = ("URN", "EstablishmentName")
BATCH = 500
#: GIAS's status names (compared in lower case) → the status fundflow stores.
GIAS_STATUSES = {label.lower(): status for status, label in STATUS_LABELS.items()}


#: The most pupils a school's row may hold (far above any English school's roll).
MAX_PUPILS = 100_000


class BadFigure(ValueError):
    """A pupil count or free school meals share that is a number, but not a possible one."""


def pupil_count(value: str | None) -> int | None:
    """GIAS's ``NumberOfPupils`` as a whole number; blank or not a whole number (GIAS leaves
    many establishments blank) is ``None``, not an error. Raises :class:`BadFigure` when
    negative or impossibly large."""
    number = _number(value)
    if number is None or number != number.to_integral_value():
        return None
    if not 0 <= number <= MAX_PUPILS:
        raise BadFigure(f"NumberOfPupils: “{(value or '').strip()}” is not a possible number of pupils")
    return int(number)


def fsm_percent(value: str | None) -> Decimal | None:
    """GIAS's ``PercentageFSM`` to one decimal place; blank or not a number (GIAS writes
    "SUPP" where the figure is suppressed) is ``None``. Raises :class:`BadFigure` outside
    0 to 100."""
    number = _number(value)
    if number is None:
        return None
    if not 0 <= number <= 100:
        raise BadFigure(f"PercentageFSM: “{(value or '').strip()}” is not a percentage from 0 to 100")
    return number.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _number(value: str | None) -> Decimal | None:
    text = (value or "").strip().rstrip("%").strip()
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def establishment_status(value: str | None) -> str | None:
    """The stored status for GIAS's "EstablishmentStatus (name)"; blank (a file without the
    column) is "open"; ``None`` for a value GIAS does not use."""
    text = " ".join((value or "").split()).lower()
    if not text:
        return "open"
    return GIAS_STATUSES.get(text)


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    #: Rows imported whose establishment is closed (kept, with their status).
    closed: int = 0
    #: URNs of schools already here that this import found closed.
    newly_closed: list[str] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged


class _CountingReader(io.RawIOBase):
    """Wraps a binary stream, counting bytes read so callers can show progress."""

    def __init__(self, raw: BinaryIO, on_read: Callable[[int], None] | None):
        self.raw, self.on_read = raw, on_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        if self.on_read and data:
            self.on_read(len(data))
        return len(data)


def _text_lines(raw: BinaryIO, on_read: Callable[[int], None] | None) -> Iterator[str]:
    """Decode line by line: UTF-8 where a line is valid UTF-8, else Windows-1252 (GIAS's own
    encoding, where "St Mary’s" carries byte 0x92). A UTF-8 byte-order mark is dropped."""
    buffered = io.BufferedReader(_CountingReader(raw, on_read), buffer_size=1 << 16)
    if buffered.peek(3)[:3].startswith(codecs.BOM_UTF8):
        buffered.read(3)
    for line in buffered:
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError:
            yield line.decode("cp1252", errors="replace")


#: Public name for the other nations' CSV imports (services/school_imports.py).
text_lines = _text_lines


def rows(raw: BinaryIO, on_read: Callable[[int], None] | None = None) -> Iterator[tuple[int, dict]]:
    """(line number, row) for each data row; line numbers count the header as line 1."""
    reader = csv.DictReader(_text_lines(raw, on_read))
    try:
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise ValidationFailed(
                {"file": [f"This is not a GIAS establishments CSV: no {', '.join(missing)} column"]}
            )
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:  # e.g. a field over the csv module's size limit: not a GIAS file
        message = (
            f"Line {reader.line_num} could not be read as CSV ({exc}): correct the file and import it again"
        )
        raise ValidationFailed({"file": [message]}) from None


def import_schools(
    user: User | None, raw: BinaryIO, on_read: Callable[[int], None] | None = None
) -> ImportResult:
    """Create or update schools by URN, each with its GIAS status (closed ones too); bad rows
    are reported with their line number and the rest imported."""
    require_admin(user)
    result = ImportResult()
    batch: list[tuple[int, dict]] = []
    for line, row in rows(raw, on_read):
        status = establishment_status(row.get(COLUMNS["status"]))
        if status is None:
            given = " ".join((row.get(COLUMNS["status"]) or "").split())[:60]
            known = ", ".join(f"“{label}”" for label in STATUS_LABELS.values())
            result.errors.append((line, f"status: “{given}” is not a GIAS establishment status ({known})"))
            continue
        try:
            values = validate_school(
                SchoolInput(
                    urn=(row.get(COLUMNS["urn"]) or "").strip(),
                    name=(row.get(COLUMNS["name"]) or "").strip(),
                    phase=(row.get(COLUMNS["phase"]) or "").strip()[:60],
                    la_code=(row.get(COLUMNS["la_code"]) or "").strip()[:10],
                    la_name=(row.get(COLUMNS["la_name"]) or "").strip()[:120],
                    trust=(row.get(COLUMNS["trust"]) or "").strip()[:200],
                    establishment_type=(row.get(COLUMNS["establishment_type"]) or "").strip()[:120],
                    postcode=(row.get(COLUMNS["postcode"]) or "").strip()[:12],
                )
            )
        except ValidationFailed as exc:
            result.errors.append((line, "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())))
            continue
        values["status"] = status
        try:
            values.update(_figures(row))
        except BadFigure as exc:
            result.errors.append((line, str(exc)))
            continue
        batch.append((line, values))
        if len(batch) >= BATCH:
            _save(batch, result)
            batch = []
    if batch:
        _save(batch, result)
    record_import(user, result)
    return result


def record_import(user: User | None, result: ImportResult, **about: Any) -> None:
    """The import's audit event, in a transaction of its own: what it created, updated,
    left unchanged and closed, and how many rows had errors (``about``: e.g. the nation)."""
    with transaction():
        audit.record_event(
            actor=user,
            action="import_schools",
            subject_type="school",
            subject_id=None,
            payload={
                **about,
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "closed": result.closed,
                "newly_closed": result.newly_closed,
                "errors": len(result.errors),
            },
        )


def _figures(row: dict) -> dict:
    """The pupil count and free school meals share the row gives: only the columns the file
    has, so a file without them leaves the figures already held as they are."""
    figures = {}
    if COLUMNS["pupils"] in row:
        figures["pupils"] = pupil_count(row[COLUMNS["pupils"]])
    if COLUMNS["fsm_percent"] in row:
        figures["fsm_percent"] = fsm_percent(row[COLUMNS["fsm_percent"]])
    return figures


_UPDATABLE = ("name", "phase", "la_code", "la_name", "trust", "establishment_type", "postcode", "status")
_FIGURES = ("pupils", "fsm_percent")


def _save(batch: list[tuple[int, dict]], result: ImportResult) -> None:
    urns = [values["urn"] for _, values in batch]
    existing = {s.urn: s for s in db.session.execute(select(School).where(School.urn.in_(urns))).scalars()}
    with transaction():
        for _line, values in batch:
            school = existing.get(values["urn"])
            if values["status"] == "closed":
                result.closed += 1
                if school is not None and not school.is_closed:
                    result.newly_closed.append(school.urn)
            if school is None:
                values.pop("causing_concern", None)
                school = School(**values)
                db.session.add(school)
                existing[school.urn] = school
                result.created += 1
            elif any(getattr(school, k) != values[k] for k in _updatable(values)):
                for k in _updatable(values):
                    setattr(school, k, values[k])
                result.updated += 1
            else:
                result.unchanged += 1


def _updatable(values: dict) -> tuple[str, ...]:
    return _UPDATABLE + tuple(k for k in _FIGURES if k in values)
