"""Partner schools through the API in every nation: named by ``school_id``, by ``identifier``
(with ``nation`` when two nations share the number) or, as before, by an English ``urn``;
answered with ``school_id``, ``nation`` and ``identifier`` beside ``urn``."""

from __future__ import annotations

import pytest

from .conftest import bid_body, error_of


@pytest.fixture
def scottish(make):
    return make.school(urn=None, nation="scotland", identifier="8412345", name="Hillhead Primary")


def _with_partner(make, partner: dict) -> dict:
    body = bid_body(make.fund(), make.school())
    body["partners"] = [{**partner, "role": "supported"}]
    return body


def test_a_scottish_partner_named_by_seed_code_comes_back_with_its_nation_and_id(api, make, scottish):
    response = api.post(
        "/applications", make.headteacher(), json=_with_partner(make, {"identifier": "8412345"})
    )
    assert response.status_code == 201, response.get_json()
    app = response.get_json()
    assert app["partners"] == [
        {
            "school_id": scottish.id,
            "nation": "scotland",
            "identifier": "8412345",
            "urn": None,
            "name": "Hillhead Primary",
            "role": "supported",
            "endorsed": False,
        }
    ]


def test_a_partner_named_by_school_id(api, make, scottish):
    response = api.post(
        "/applications", make.headteacher(), json=_with_partner(make, {"school_id": scottish.id})
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["partners"][0]["identifier"] == "8412345"


def test_an_english_partner_by_urn_still_works_and_has_its_identifier(api, make):
    head, fund, partner = make.headteacher(), make.fund(), make.school()
    response = api.post("/applications", head, json=bid_body(fund, partner))
    assert response.status_code == 201
    app = response.get_json()
    (named,) = app["partners"]
    assert (named["urn"], named["identifier"], named["nation"], named["school_id"]) == (
        partner.urn,
        partner.urn,
        "england",
        partner.id,
    )
    assert (app["lead_school_id"], app["lead_school_nation"], app["lead_school_identifier"]) == (
        head.school_id,
        "england",
        head.school.urn,
    )


def test_a_number_two_nations_share_is_422_on_the_nation_until_it_is_given(api, make, scottish):
    make.school(urn=None, nation="wales", identifier="8412345", name="Ysgol y Twyn")
    head = make.headteacher()
    body = _with_partner(make, {"identifier": "8412345"})
    response = api.post("/applications", head, json=body)
    assert response.status_code == 422
    (message,) = error_of(response)["fields"]["partners.0.nation"]
    assert "Wales and Scotland" in message
    body["partners"][0]["nation"] = "scotland"
    response = api.post("/applications", head, json=body)
    assert response.status_code == 201
    assert response.get_json()["partners"][0]["school_id"] == scottish.id


@pytest.mark.parametrize(
    ("partner", "field", "words"),
    [
        (
            {"identifier": "8499999", "nation": "scotland"},
            "identifier",
            "No school in Scotland with SEED code",
        ),
        ({"identifier": "83"}, "identifier", "school number or SEED code (7 digits)"),
        ({"school_id": 2_000_000}, "school_id", "No school with id"),
        ({}, "identifier", "Enter the school's URN, school number, SEED code or DE reference number"),
    ],
)
def test_a_partner_that_names_no_school_is_422_on_the_field_that_named_it(api, make, partner, field, words):
    response = api.post("/applications", make.headteacher(), json=_with_partner(make, partner))
    assert response.status_code == 422
    assert words in " ".join(error_of(response)["fields"][f"partners.0.{field}"])


def test_a_nation_the_api_does_not_know_is_422(api, make, scottish):
    body = _with_partner(make, {"identifier": "8412345", "nation": "narnia"})
    response = api.post("/applications", make.headteacher(), json=body)
    assert response.status_code == 422
    assert "partners.0.nation" in error_of(response)["fields"]


def test_me_names_a_scottish_headteachers_school_by_id_nation_and_seed_code(api, make, scottish):
    me = api.get("/me", make.headteacher(school=scottish)).get_json()
    assert (me["school_id"], me["school_nation"], me["school_identifier"], me["school_urn"]) == (
        scottish.id,
        "scotland",
        "8412345",
        None,
    )
