"""Each nation's school identifier: format, normalisation, plain-English errors; councils' GSS codes."""

from __future__ import annotations

import pytest

from fundflow.models import School
from fundflow.services import school_identifiers as ids


@pytest.mark.parametrize(
    ("nation", "given", "stored"),
    [
        ("england", "110123", "110123"),
        ("england", " 110123 ", "110123"),
        ("wales", "6812345", "6812345"),
        ("scotland", "8300011", "8300011"),
        ("northern_ireland", "1234567", "123-4567"),
        ("northern_ireland", "123-4567", "123-4567"),
        ("northern_ireland", " 123-4567", "123-4567"),
    ],
)
def test_valid_identifiers_are_normalised(nation, given, stored):
    assert ids.normalise(nation, given) == stored


@pytest.mark.parametrize(
    ("nation", "given", "words"),
    [
        ("england", "11012", "6-digit"),
        ("england", "1101234", "6-digit"),
        ("england", "", "URN"),
        ("wales", "681234", "3-digit code"),
        ("wales", "68123456", "7-digit school number"),
        ("scotland", "830001A", "SEED code"),
        ("scotland", "٨٣٠٠٠١١", "SEED code"),  # Arabic-Indic digits are not the SEED code's digits
        ("northern_ireland", "12-34567", "123-4567"),
        ("northern_ireland", "123456", "DE reference number"),
        ("northern_ireland", "١٢٣-٤٥٦٧", "DE reference number"),
    ],
)
def test_invalid_identifiers_say_what_is_wanted(nation, given, words):
    with pytest.raises(ids.InvalidIdentifier) as raised:
        ids.normalise(nation, given)
    assert words in str(raised.value)
    assert ids.problem(nation, given) == str(raised.value)


def test_england_is_six_digits_not_seven_and_wales_seven_not_six():
    assert ids.problem("england", "6812345") is not None
    assert ids.problem("wales", "110123") is not None
    assert ids.problem("wales", "6812345") is None


def test_an_unknown_nation_is_refused():
    with pytest.raises(ids.InvalidIdentifier, match="England, Wales, Scotland or Northern Ireland"):
        ids.normalise("cornwall", "110123")


@pytest.mark.parametrize(
    ("written", "nation"),
    [
        ("wales", "wales"),
        ("Northern Ireland", "northern_ireland"),
        ("northern-ireland", "northern_ireland"),
        ("ENGLAND", "england"),
        ("britain", None),
        ("", None),
    ],
)
def test_nation_spellings(written, nation):
    assert ids.nation_of(written) == nation


@pytest.mark.parametrize(
    ("nation", "council", "code"),
    [
        ("wales", "Cardiff", "W06000015"),
        ("wales", "The Vale of Glamorgan", "W06000014"),
        ("wales", "Isle of Anglesey", "W06000001"),
        ("wales", "Anglesey", "W06000001"),
        ("scotland", "Perth & Kinross", "S12000048"),
        ("scotland", "Glasgow City", "S12000049"),
        ("scotland", "Edinburgh City", "S12000036"),
        ("scotland", "Na h-Eileanan Siar", "S12000013"),
        ("scotland", "Cardiff", ""),  # a Welsh council is not found among the Scottish ones
        ("wales", "Atlantis", ""),
    ],
)
def test_council_gss_codes_from_names(nation, council, code):
    assert ids.council_gss_code(nation, council) == code


def test_the_council_table_has_every_welsh_and_scottish_council_once():
    import csv

    with ids.COUNCILS_FILE.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    codes = [r["gss_code"] for r in rows]
    assert len(codes) == len(set(codes))
    assert sum(c.startswith("W06") for c in codes) == 22
    assert sum(c.startswith("S12") for c in codes) == 32


@pytest.mark.parametrize(
    ("nation", "identifier", "org_id"),
    [
        ("england", "110123", "GB-EDU-110123"),
        ("wales", "6812345", "GB-WALEDU-6812345"),
        ("scotland", "8300011", "GB-SCOTEDU-8300011"),
        ("northern_ireland", "123-4567", "GB-NIEDU-123-4567"),
    ],
)
def test_giving360_ids(nation, identifier, org_id):
    assert School(nation=nation, identifier=identifier, name="A school").giving360_id == org_id


def test_an_english_school_given_by_urn_has_it_as_identifier():
    school = School(urn="110123", name="A school")
    assert (school.nation, school.identifier, school.urn) == ("england", "110123", "110123")
    welsh = School(nation="wales", identifier="6812345", name="Ysgol")
    assert welsh.urn is None
