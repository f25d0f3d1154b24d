"""Each nation's published list imports: Welsh ODS, Scottish xlsx, Northern Irish CSV (and
GIAS for England, through the same entry point and CLI): identifiers checked, bad rows
reported by line, a second import changing nothing."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from fundflow.extensions import db
from fundflow.models import School
from fundflow.services import school_imports
from fundflow.services.errors import ValidationFailed
from tests.spreadsheets import ods, xlsx

WALES_HEADER = [
    "School Number", "School Name", "Local Authority", "Address 1", "Address 2", "Address 3", "Address 4",
    "Postcode", "Phone Number", "Sector", "School Type", "Welsh Medium Type - see notes",
    "Governance - see notes",
]  # fmt: skip


def wales_row(number, name, council, sector="Primary", kind="Community") -> list:
    return [number, name, council, "1 Heol", "", "", "", "CF10 1AA", "029 2000 0000", sector, kind, "", ""]


def wales_file(maintained: list[list], pru: list[list] | None = None) -> bytes:
    return ods(
        {
            "Maintained": [WALES_HEADER, *maintained],
            "Independent": [WALES_HEADER],
            "PRU": [WALES_HEADER, *(pru or [])],
        }
    )


SCOTLAND_HEADER = [
    "SEED Code", "LA Name", "Centre Type", "School Name", "Address 1", "Address 2", "Address 3",
    "Post Code", "Phone", "Email", "Primary", "Secondary", "Special",
]  # fmt: skip


def scotland_file(rows: list[list], sheet: str = "Open at 20 September 2024", older: bool = True) -> bytes:
    titles = [["School contact details"], ["Scottish Government"], [], ["Schools open at the date"], []]
    groups = [["", "", "", "", "", "", "", "", "", "", "Pupil rolls", "", ""]]
    sheets = {"Notes": [["About this workbook"]]}
    if older:  # an earlier sheet, with a school that is no longer listed: not the one read
        sheets["Open at 1 September 2023"] = [
            *titles,
            *groups,
            SCOTLAND_HEADER,
            [9999999, "Fife", "Local", "Old"],
        ]
    sheets[sheet] = [*titles, *groups, SCOTLAND_HEADER, *rows, [], ["Notes: . means not applicable"]]
    return xlsx(sheets)


def scotland_row(seed, council, name) -> list:
    return [seed, council, "Local Authority", name, "1 Road", ".", "N/A", "G1 1AA", ".", "N/A", 200, 0, "."]


NI_HEADER = (
    "Institution Reference Number,Institution Name,Address Line 1,Address Line 2,Address Line 3,Town,"
    "Postcode,Telephone,Email,Management,Type,Status,Date Closed\r\n"
)


def ni_file(*rows: str) -> bytes:
    return (NI_HEADER + "".join(r + "\r\n" for r in rows)).encode("utf-8")


def run(data: bytes, nation: str | None = None):
    return school_imports.import_schools(None, io.BytesIO(data), nation)


def school(nation: str, identifier: str) -> School:
    return db.session.execute(
        select(School).where(School.nation == nation, School.identifier == identifier)
    ).scalar_one()


# ------------------------------------------------------------------------------ Wales


def test_welsh_address_list_imports_every_sheet_with_council_gss_codes(app):
    data = wales_file(
        [
            wales_row(6812345, "Ysgol Gymraeg Caerdydd", "Cardiff"),
            wales_row("6734001", "Ysgol Y Bont", "Vale of Glamorgan"),
        ],
        pru=[wales_row("6611100", "Gwynedd PRU", "Gwynedd", sector="PRU", kind="PRU")],
    )
    nation, result = run(data)
    assert nation == "wales"
    assert (result.created, result.errors) == (3, [])
    cardiff = school("wales", "6812345")
    assert cardiff.name == "Ysgol Gymraeg Caerdydd"
    assert (cardiff.gss_code, cardiff.la_name, cardiff.la_code) == ("W06000015", "Cardiff", "681")
    assert (cardiff.phase, cardiff.establishment_type, cardiff.postcode) == (
        "Primary",
        "Community",
        "CF10 1AA",
    )
    assert cardiff.urn is None and cardiff.giving360_id == "GB-WALEDU-6812345"
    assert school("wales", "6611100").gss_code == "W06000002"


def test_welsh_bad_rows_are_reported_by_sheet_and_line_and_a_second_import_changes_nothing(app):
    data = wales_file(
        [
            wales_row("6812345", "Ysgol Gymraeg Caerdydd", "Cardiff"),
            wales_row("68123", "Short Number School", "Cardiff"),  # row 3 of Maintained
            wales_row("6812346", "", "Cardiff"),  # row 4: no name
        ],
        pru=[wales_row("661110X", "Bad PRU", "Gwynedd")],  # row 2 of PRU
    )
    _, first = run(data)
    assert first.created == 1
    lines = {(line, message.split(":")[0]) for line, message in first.errors}
    assert lines == {(3, "sheet Maintained"), (4, "sheet Maintained"), (2, "sheet PRU")}
    assert any("7-digit school number" in message for _, message in first.errors)
    _, second = run(data)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 1)
    assert db.session.scalar(select(db.func.count()).select_from(School)) == 1


def test_a_welsh_council_not_in_the_table_gets_no_gss_code(app):
    _, result = run(wales_file([wales_row("6812345", "Ysgol", "Atlantis")]))
    assert result.errors == [] and school("wales", "6812345").gss_code == ""


# ---------------------------------------------------------------------------- Scotland


def test_scottish_school_contact_details_read_the_latest_open_sheet_up_to_the_first_blank_row(app):
    data = scotland_file(
        [
            scotland_row(8300011, "Glasgow City", "Hillhead Primary"),
            scotland_row("5244439", "Perth & Kinross", "Crieff High"),
        ]
    )
    nation, result = run(data)
    assert nation == "scotland"
    assert (result.created, result.errors) == (2, [])
    hillhead = school("scotland", "8300011")
    assert (hillhead.la_name, hillhead.gss_code, hillhead.postcode) == ("Glasgow City", "S12000049", "G1 1AA")
    assert hillhead.establishment_type == "Local Authority"
    assert hillhead.giving360_id == "GB-SCOTEDU-8300011"
    assert school("scotland", "5244439").gss_code == "S12000048"
    # the older sheet's school is not imported, nor the notes below the blank row
    assert db.session.scalar(select(db.func.count()).select_from(School)) == 2


def test_scottish_bad_rows_by_line_and_idempotent(app):
    rows = [
        scotland_row(8300011, "Glasgow City", "Hillhead Primary"),  # row 8
        scotland_row("83000", "Glasgow City", "Short Seed"),  # row 9
        scotland_row(".", "Glasgow City", "No Seed"),  # row 10
    ]
    _, first = run(scotland_file(rows))
    assert first.created == 1
    assert [line for line, _ in first.errors] == [9, 10]
    assert "SEED code" in first.errors[0][1]
    _, second = run(scotland_file(rows))
    assert (second.created, second.updated, second.unchanged, len(second.errors)) == (0, 0, 1, 2)


def test_a_welsh_school_number_and_a_seed_code_may_be_the_same_seven_digits(app):
    run(wales_file([wales_row("6812345", "Ysgol", "Cardiff")]))
    run(scotland_file([scotland_row("6812345", "Fife", "Fife School")], older=False))
    assert school("wales", "6812345").name == "Ysgol"
    assert school("scotland", "6812345").name == "Fife School"


def test_a_renamed_scottish_school_is_updated(app):
    run(scotland_file([scotland_row(8300011, "Glasgow City", "Hillhead Primary")]))
    _, result = run(scotland_file([scotland_row(8300011, "Glasgow City", "Hillhead Primary School")]))
    assert result.updated == 1 and school("scotland", "8300011").name == "Hillhead Primary School"


# ------------------------------------------------------------------- Northern Ireland


def test_northern_ireland_csv_imports_with_status_and_normalised_reference(app):
    data = ni_file(
        "1231234,Belfast Primary,1 Road,,,Belfast,BT1 1AA,028 9000 0000,a@b.test,Controlled,Primary,Open,",
        "123-4321,Old School,1 Road,,,Derry,BT48 1AA,,,Catholic Maintained,Primary,Closed,31-08-2020",
        "12312,Bad Reference,1 Road,,,Newry,BT34 1AA,,,Controlled,Primary,Open,",  # line 4
        "1235555,Odd Status,1 Road,,,Newry,BT34 1AA,,,Controlled,Primary,Amalgamated,",  # line 5
    )
    nation, result = run(data)
    assert nation == "northern_ireland"
    assert (result.created, result.closed) == (2, 1)
    assert [line for line, _ in result.errors] == [4, 5]
    assert "DE reference number" in result.errors[0][1] and "Amalgamated" in result.errors[1][1]
    belfast = school("northern_ireland", "123-1234")
    assert (belfast.giving360_id, belfast.gss_code, belfast.la_name) == ("GB-NIEDU-123-1234", "", "")
    assert (belfast.trust, belfast.establishment_type) == ("Controlled", "Primary")
    assert school("northern_ireland", "123-4321").status == "closed"
    _, again = run(data)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


# ------------------------------------------------------------------------ detection, CLI


def test_england_still_goes_through_gias(app):
    data = b"URN,EstablishmentName,LA (code)\r\n110123,An English School,871\r\n"
    nation, result = run(data)
    assert nation == "england" and result.created == 1
    english = school("england", "110123")
    assert english.urn == "110123" and english.giving360_id == "GB-EDU-110123"


def test_an_unknown_file_is_refused_with_a_plain_reason(app):
    with pytest.raises(ValidationFailed) as raised:
        run(b"Name,Town\r\nSomething,Somewhere\r\n")
    assert "--nation" in raised.value.fields["file"][0]
    with pytest.raises(ValidationFailed):
        run(xlsx({"Sheet1": [["a"]]}))


def test_the_nation_given_wins_over_detection(app):
    with pytest.raises(ValidationFailed) as raised:
        run(wales_file([wales_row("6812345", "Ysgol", "Cardiff")]), "scotland")
    assert "Open at" in raised.value.fields["file"][0]


@pytest.mark.parametrize(
    ("name", "data", "nation", "flag"),
    [
        ("wales.ods", lambda: wales_file([wales_row("6812345", "Ysgol", "Cardiff")]), "wales", None),
        (
            "scot.xlsx",
            lambda: scotland_file([scotland_row(8300011, "Glasgow City", "Hillhead")]),
            "scotland",
            None,
        ),
        (
            "ni.csv",
            lambda: ni_file("1231234,Belfast Primary,,,,,,,,,,Open,"),
            "northern_ireland",
            "northern-ireland",
        ),
    ],
)
def test_cli_imports_each_layout(app, runner, tmp_path, name, data, nation, flag):
    path = tmp_path / name
    path.write_bytes(data())
    args = ["fundflow", "import-schools", str(path)] + (["--nation", flag] if flag else [])
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "Imported 1 schools: 1 new" in result.output
    assert db.session.scalar(select(School.nation)) == nation


@pytest.mark.postgres
def test_each_layout_imports_twice_on_postgresql(pg_app):
    welsh = wales_file([wales_row("6812345", "Ysgol", "Cardiff")])
    scottish = scotland_file([scotland_row("6812345", "Glasgow City", "Hillhead")])
    irish = ni_file("1231234,Belfast Primary,,,,,,,,,,Open,")
    for data in (welsh, scottish, irish):
        assert run(data)[1].created == 1
        assert run(data)[1].unchanged == 1
    assert db.session.scalar(select(db.func.count()).select_from(School)) == 3
