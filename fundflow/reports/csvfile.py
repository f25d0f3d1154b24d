"""Writing CSV text that is safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ..services import parsing

#: A cell starting with one of these is run as a formula by spreadsheet programs.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def text(value: Any) -> str:
    """Free text from users, made inert for spreadsheets (OWASP's advice: a leading ')."""
    value = "" if value is None else str(value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def pounds(pence: int) -> str:
    """Pence as pounds with two decimals, exactly: -12345 → "-123.45"."""
    return str(parsing.pounds(pence))


#: Rows written into one chunk of a streamed file: a few tens of kilobytes.
ROWS_PER_CHUNK = 500


def chunks(
    header: Sequence[str], rows: Iterable[Sequence[Any]], rows_per_chunk: int = ROWS_PER_CHUNK
) -> Iterator[str]:
    """The CSV text in pieces (the header first, then ``rows_per_chunk`` rows at a time), so a
    file of any size is sent as it is read, in bounded memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield _drain(buffer)
    for count, row in enumerate(rows, start=1):
        writer.writerow(["" if cell is None else cell for cell in row])
        if count % rows_per_chunk == 0:
            yield _drain(buffer)
    if buffer.tell():
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def write(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """The whole CSV text at once (tests and small files)."""
    return "".join(chunks(header, rows))
