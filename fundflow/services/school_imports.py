"""Import schools from each UK nation's published list.

| nation           | list                                                        | read as          |
| ---------------- | ----------------------------------------------------------- | ---------------- |
| England          | GIAS establishments CSV                                     | services/gias.py |
| Wales            | Welsh Government "Address list of schools" (ODS; sheets      | python-calamine  |
|                  | Maintained, Independent, PRU; header row first)              |                  |
| Scotland         | Scottish Government "School contact details" (xlsx; latest   | python-calamine  |
|                  | sheet "Open at <date>"; title rows, a group-title row, then  |                  |
|                  | the header; the data ends at the first blank row)            |                  |
| Northern Ireland | Department of Education institutions list (CSV)              | csv              |

As for GIAS: rows are matched on (nation, identifier), so a second import of the same
file changes nothing; a bad row is reported with its line (its spreadsheet row, and sheet)
and the rest imported; rows are saved in batches. A spreadsheet is read by calamine a sheet
at a time (the Welsh and Scottish lists are a few thousand rows). Welsh and Scottish
schools get their council's GSS code from its name (fundflow/data/councils.csv).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any, BinaryIO

from python_calamine import CalamineError, CalamineWorkbook
from sqlalchemy import select

from ..extensions import db
from ..models import School, User
from . import gias, school_identifiers
from .admin import SchoolInput, require_admin, validate_school
from .errors import ValidationFailed
from .gias import BATCH, ImportResult
from .unit_of_work import transaction

WALES_SHEETS = ("Maintained", "Independent", "PRU")
SCOTLAND_SHEET = re.compile(r"^\s*open\s+at\b\s*(.*)$", re.IGNORECASE)
NI_COLUMNS = {
    "identifier": "Institution Reference Number",
    "name": "Institution Name",
    "postcode": "Postcode",
    "management": "Management",
    "type": "Type",
    "status": "Status",
}
#: The Department of Education's statuses (lower case) → the status fundflow stores.
NI_STATUSES = {"open": "open", "closed": "closed", "proposed": "proposed_to_open"}
#: What the Scottish list writes in an empty cell.
BLANKS = {".", "n/a", "na", "-"}

#: A row's key for the sheet it came from (Wales: its lines are numbered per sheet).
SHEET = "_sheet"
#: A row as read: (line, values for SchoolInput plus "status") or (line, error message).
Row = tuple[int, dict[str, Any] | str]


def detect_nation(raw: BinaryIO) -> str:
    """Which nation's list ``raw`` holds, from its content; the stream is left at its start."""
    head = raw.read(4096)
    raw.seek(0)
    if head.startswith(b"PK\x03\x04"):  # a zip: an ODS or xlsx workbook
        names = [name.strip() for name in _workbook(raw).sheet_names]
        raw.seek(0)
        if any(SCOTLAND_SHEET.match(name) for name in names):
            return "scotland"
        if any(name in WALES_SHEETS for name in names):
            return "wales"
        raise ValidationFailed(
            {
                "file": [
                    "This spreadsheet is neither the Welsh address list of schools (sheets Maintained, "
                    "Independent, PRU) nor the Scottish school contact details (a sheet “Open at …”)"
                ]
            }
        )
    first_line = head.decode("utf-8", errors="replace").lstrip("\ufeff").splitlines()[0] if head else ""
    if NI_COLUMNS["identifier"].lower() in first_line.lower():
        return "northern_ireland"
    if "URN" in first_line and "EstablishmentName" in first_line:
        return "england"
    raise ValidationFailed(
        {
            "file": [
                "This file is not a list fundflow knows: give --nation, or use a GIAS establishments CSV "
                "(with URN and EstablishmentName columns), the Welsh or Scottish school list, or the "
                "Department of Education's institutions CSV"
            ]
        }
    )


def import_schools(
    user: User | None,
    raw: BinaryIO,
    nation: str | None = None,
    on_read: Callable[[int], None] | None = None,
) -> tuple[str, ImportResult]:
    """Import the list in ``raw`` (of ``nation``, or detected); returns the nation and the result."""
    require_admin(user)
    nation = nation or detect_nation(raw)
    if nation == "england":
        return nation, gias.import_schools(user, raw, on_read=on_read)
    reader = {"wales": wales_rows, "scotland": scotland_rows, "northern_ireland": northern_ireland_rows}
    if nation not in reader:
        raise ValidationFailed({"nation": ["Choose england, wales, scotland or northern-ireland"]})
    result = ImportResult()
    batch: list[dict[str, Any]] = []
    for line, row in reader[nation](raw):
        if isinstance(row, str):
            result.errors.append((line, row))
            continue
        status = row.pop("status", "open")
        sheet = row.pop(SHEET, "")
        try:
            values = validate_school(SchoolInput(nation=nation, **row))
        except ValidationFailed as exc:
            message = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())
            result.errors.append((line, f"sheet {sheet}: {message}" if sheet else message))
            continue
        values.pop("causing_concern", None)
        values["status"] = status
        batch.append(values)
        if len(batch) >= BATCH:
            _save(nation, batch, result)
            batch = []
    if batch:
        _save(nation, batch, result)
    gias.record_import(user, result, nation=nation)
    return nation, result


# ------------------------------------------------------------------------------ readers


def _workbook(raw: BinaryIO) -> CalamineWorkbook:
    try:
        return CalamineWorkbook.from_filelike(raw)
    except (CalamineError, ValueError, OSError) as exc:
        raise ValidationFailed({"file": [f"The spreadsheet could not be read ({exc})"]}) from None


def _cell(value: Any) -> str:
    """A spreadsheet cell as text: whole numbers without ".0", dates as ISO, blank-ish as ""."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = " ".join(str(value).split())
    return "" if text.lower() in BLANKS else text


def _header_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _sheet_rows(book: CalamineWorkbook, name: str) -> Iterator[tuple[int, list[str]]]:
    """(spreadsheet row number, cells as text) for each row of the sheet."""
    sheet = book.get_sheet_by_name(name)
    # From the sheet's first row (not its first filled one), so numbers match the spreadsheet's.
    for offset, cells in enumerate(sheet.to_python(skip_empty_area=False)):
        yield offset + 1, [_cell(c) for c in cells]


def _pick(cells: list[str], columns: dict[str, int], key: str) -> str:
    index = columns.get(key)
    return cells[index] if index is not None and index < len(cells) else ""


def wales_rows(raw: BinaryIO) -> Iterator[Row]:
    """The Welsh address list: each of its sheets Maintained, Independent and PRU."""
    book = _workbook(raw)
    sheets = [name for name in book.sheet_names if name.strip() in WALES_SHEETS]
    if not sheets:
        raise ValidationFailed(
            {"file": ["This is not the Welsh address list of schools: no sheet Maintained"]}
        )
    for sheet in sheets:
        rows = _sheet_rows(book, sheet)
        header = next(rows, None)
        columns = {_header_key(text): i for i, text in enumerate(header[1] if header else [])}
        if "schoolnumber" not in columns or "schoolname" not in columns:
            raise ValidationFailed(
                {"file": [f"Sheet {sheet.strip()} has no “School Number” and “School Name” header row"]}
            )
        for line, cells in rows:
            if not any(cells):
                continue
            number = _pick(cells, columns, "schoolnumber")
            council = _pick(cells, columns, "localauthority")
            row: dict[str, Any] = {
                "identifier": number,
                "name": _pick(cells, columns, "schoolname"),
                "la_code": number[:3] if len(number) == 7 else "",
                "la_name": council[:120],
                "gss_code": school_identifiers.council_gss_code("wales", council),
                "postcode": _pick(cells, columns, "postcode")[:12],
                "phase": _pick(cells, columns, "sector")[:60],
                "establishment_type": _pick(cells, columns, "schooltype")[:120],
            }
            if len(sheets) > 1:
                row[SHEET] = sheet.strip()
            yield line, row


def _latest_open_sheet(names: list[str]) -> str | None:
    """The sheet "Open at <date>" with the latest date (the first such sheet if none parses)."""
    dated: list[tuple[date, str]] = []
    undated: list[str] = []
    for name in names:
        match = SCOTLAND_SHEET.match(name)
        if not match:
            continue
        when = _sheet_date(match.group(1))
        (dated.append((when, name)) if when else undated.append(name))
    if dated:
        return max(dated)[1]
    return undated[0] if undated else None


def _sheet_date(text: str) -> date | None:
    text = " ".join(text.replace(",", " ").split())
    for form in ("%d %B %Y", "%d %b %Y", "%B %Y", "%b %Y", "%d.%m.%Y", "%d-%m-%Y", "%Y-%m-%d", "%Y"):
        try:
            return datetime.strptime(text, form).date()
        except ValueError:
            continue
    return None


def scotland_rows(raw: BinaryIO) -> Iterator[Row]:
    """The Scottish school contact details: the latest "Open at" sheet, from the header row
    (the first row naming the SEED code, below the title rows and the group titles) to the
    first blank row."""
    book = _workbook(raw)
    sheet = _latest_open_sheet(list(book.sheet_names))
    if sheet is None:
        raise ValidationFailed(
            {"file": ["This is not the Scottish school contact details: no sheet “Open at …”"]}
        )
    rows = _sheet_rows(book, sheet)
    columns: dict[str, int] = {}
    for _line, cells in rows:
        keys = [_header_key(text) for text in cells]
        if "seedcode" in keys:
            columns = {key: i for i, key in enumerate(keys) if key}
            break
    if not columns:
        raise ValidationFailed({"file": [f"Sheet {sheet} has no header row naming the SEED code"]})
    name_key = next((k for k in ("schoolname", "name", "centrename") if k in columns), "")
    council_key = next((k for k in ("laname", "localauthority", "localauthorityname") if k in columns), "")
    postcode_key = next((k for k in ("postcode", "postcodes") if k in columns), "")
    for line, cells in rows:
        if not any(cells):
            return  # the data ends at the first blank row; notes follow it
        council = _pick(cells, columns, council_key)
        yield (
            line,
            {
                "identifier": _pick(cells, columns, "seedcode"),
                "name": _pick(cells, columns, name_key),
                "la_name": council[:120],
                "gss_code": school_identifiers.council_gss_code("scotland", council),
                "postcode": _pick(cells, columns, postcode_key)[:12],
                "establishment_type": _pick(cells, columns, "centretype")[:120],
            },
        )


def northern_ireland_rows(raw: BinaryIO) -> Iterator[Row]:
    """The Department of Education's institutions CSV; every institution is kept with its
    status (closed ones too), as for GIAS. The list names no council: la_name and the GSS code
    stay blank."""
    reader = csv.DictReader(gias.text_lines(raw, None))
    try:
        if NI_COLUMNS["identifier"] not in (reader.fieldnames or []):
            missing = NI_COLUMNS["identifier"]
            raise ValidationFailed(
                {"file": [f"This is not the Department of Education's list: no {missing} column"]}
            )
        for row in reader:
            line = reader.line_num
            given = " ".join((row.get(NI_COLUMNS["status"]) or "").split())
            status = NI_STATUSES.get(given.lower() or "open")
            if status is None:
                known = "Open, Closed, Proposed"
                yield line, f"status: “{given[:60]}” is not a Department of Education status ({known})"
                continue
            yield (
                line,
                {
                    "identifier": (row.get(NI_COLUMNS["identifier"]) or "").strip(),
                    "name": (row.get(NI_COLUMNS["name"]) or "").strip(),
                    "postcode": (row.get(NI_COLUMNS["postcode"]) or "").strip()[:12],
                    "trust": (row.get(NI_COLUMNS["management"]) or "").strip()[:200],
                    "establishment_type": (row.get(NI_COLUMNS["type"]) or "").strip()[:120],
                    "status": status,
                },
            )
    except csv.Error as exc:
        message = (
            f"Line {reader.line_num} could not be read as CSV ({exc}): correct the file and import it again"
        )
        raise ValidationFailed({"file": [message]}) from None


# ------------------------------------------------------------------------------- saving

_UPDATABLE = (
    "name",
    "phase",
    "la_code",
    "la_name",
    "trust",
    "establishment_type",
    "postcode",
    "gss_code",
    "status",
)


def _save(nation: str, batch: list[dict[str, Any]], result: ImportResult) -> None:
    identifiers = [values["identifier"] for values in batch]
    found = select(School).where(School.nation == nation, School.identifier.in_(identifiers))
    existing = {s.identifier: s for s in db.session.execute(found).scalars()}
    with transaction():
        for values in batch:
            school = existing.get(values["identifier"])
            if values["status"] == "closed":
                result.closed += 1
                if school is not None and not school.is_closed:
                    result.newly_closed.append(school.identifier)
            if school is None:
                school = School(**values)
                db.session.add(school)
                existing[school.identifier] = school
                result.created += 1
            elif any(getattr(school, k) != values[k] for k in _UPDATABLE):
                for k in _UPDATABLE:
                    setattr(school, k, values[k])
                result.updated += 1
            else:
                result.unchanged += 1


def as_seekable(raw: BinaryIO) -> BinaryIO:
    """``raw`` if it can go back to its start (needed to detect the layout), else a copy in memory."""
    try:
        if raw.seekable():
            return raw
    except (AttributeError, ValueError):
        pass
    return io.BytesIO(raw.read())
