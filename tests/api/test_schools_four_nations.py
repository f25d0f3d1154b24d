"""The API takes and gives schools of every nation: ``nation`` and ``identifier`` beside the
English ``urn`` (which keeps working), and ``school_id``."""

from __future__ import annotations

import pytest

from .conftest import error_of


def test_admin_adds_a_welsh_school_by_identifier(api, make):
    body = {"nation": "wales", "identifier": "6812345", "name": "Ysgol Gymraeg", "gss_code": "W06000015"}
    response = api.post("/schools", make.user("admin"), json=body)
    assert response.status_code == 201, response.get_json()
    school = response.get_json()
    assert school["urn"] is None
    assert (school["nation"], school["identifier"], school["giving360_id"]) == (
        "wales",
        "6812345",
        "GB-WALEDU-6812345",
    )
    assert school["gss_code"] == "W06000015" and isinstance(school["school_id"], int)


def test_a_northern_irish_reference_is_stored_normalised(api, make):
    body = {"nation": "northern_ireland", "identifier": "1231234", "name": "Belfast Primary"}
    response = api.post("/schools", make.user("admin"), json=body)
    assert response.get_json()["identifier"] == "123-1234"
    again = api.post("/schools", make.user("admin"), json={**body, "identifier": "123-1234"})
    assert again.status_code == 409 and error_of(again)["code"] == "duplicate_school"


def test_an_english_school_by_urn_has_identifier_and_school_id_too(api, make):
    response = api.post("/schools", make.user("admin"), json={"urn": "300001", "name": "Cippenham"})
    school = response.get_json()
    assert (school["urn"], school["nation"], school["identifier"]) == ("300001", "england", "300001")
    assert school["giving360_id"] == "GB-EDU-300001"


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"nation": "scotland", "identifier": "83000"}, "identifier", "7-digit SEED code"),
        ({"nation": "wales", "urn": "300001"}, "urn", "Only English schools have a URN"),
        ({"nation": "wales"}, "identifier", "7-digit school number"),
        ({"urn": "300001", "identifier": "300002"}, "identifier", "identifier is its URN"),
        ({"nation": "wales", "identifier": "6812345", "gss_code": "Cardiff"}, "gss_code", "GSS code"),
    ],
)
def test_identifier_problems_are_422_in_plain_words(api, make, body, field, words):
    response = api.post("/schools", make.user("admin"), json={"name": "A School", **body})
    assert response.status_code == 422
    assert words in " ".join(error_of(response)["fields"][field])


def test_schools_list_english_first_by_urn_then_the_other_nations(api, make):
    make.school(urn=None, nation="scotland", identifier="8300011", name="Hillhead")
    make.school(urn="200001", name="Alpha")
    body = api.get("/schools", make.headteacher()).get_json()
    listed = [(s["nation"], s["identifier"]) for s in body["items"]]
    assert listed == sorted(listed)
    assert ("scotland", "8300011") in listed
