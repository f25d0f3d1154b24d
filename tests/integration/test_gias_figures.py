"""The GIAS import fills each school's pupil numbers and free school meals share
(``NumberOfPupils``, ``PercentageFSM``) for the value-for-money view."""

from __future__ import annotations

import io
from decimal import Decimal

from sqlalchemy import select

from fundflow.extensions import db
from fundflow.models import School
from fundflow.services import gias

HEADER = "URN,EstablishmentName,LA (code),EstablishmentStatus (name),NumberOfPupils,PercentageFSM\r\n"


def import_rows(*rows: str, header: str = HEADER) -> gias.ImportResult:
    return gias.import_schools(None, io.BytesIO((header + "".join(r + "\r\n" for r in rows)).encode()))


def figures(urn: str) -> tuple[int | None, Decimal | None]:
    row = db.session.execute(select(School.pupils, School.fsm_percent).where(School.urn == urn)).one()
    return row.pupils, row.fsm_percent


def test_pupils_and_fsm_share_are_read(app):
    result = import_rows("150001,Hill Primary,871,Open,412,23.4", "150002,Dale Infants,871,Open,90,0")
    assert result.created == 2 and result.errors == []
    assert figures("150001") == (412, Decimal("23.4"))
    assert figures("150002") == (90, Decimal("0.0"))


def test_blank_or_suppressed_figures_are_left_empty_not_errors(app):
    result = import_rows("150003,Brook School,871,Open,,SUPP", "150004,Vale School,871,Open,n/a,")
    assert result.created == 2 and result.errors == []
    assert figures("150003") == (None, None)
    assert figures("150004") == (None, None)


def test_an_impossible_percentage_is_a_bad_row_reported_by_line(app):
    result = import_rows(
        "150005,Good Row,871,Open,100,12.5",
        "150006,Bad Share,871,Open,100,112.5",
        "150007,Below Zero,871,Open,100,-1",
        "150008,Negative Roll,871,Open,-5,10",
    )
    assert result.created == 1
    assert [line for line, _ in result.errors] == [3, 4, 5]
    assert "PercentageFSM" in result.errors[0][1] and "112.5" in result.errors[0][1]
    assert "NumberOfPupils" in result.errors[2][1]
    assert db.session.execute(select(School.urn).where(School.urn.in_(["150006", "150007"]))).all() == []


def test_a_new_figure_updates_the_school_and_a_file_without_the_columns_keeps_them(app):
    import_rows("150009,Moor School,871,Open,200,10.0")
    again = import_rows("150009,Moor School,871,Open,210,11.25")
    assert again.updated == 1 and figures("150009") == (210, Decimal("11.3"))
    older = import_rows(
        "150009,Moor School,871,Open", header="URN,EstablishmentName,LA (code),EstablishmentStatus (name)\r\n"
    )
    assert older.unchanged == 1 and figures("150009") == (210, Decimal("11.3"))
