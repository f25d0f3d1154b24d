"""The auditor's rules for backfill claims (issue 10, part 4), on the service and the site:
the period falls between the award's approval and the earlier of today and the end of the
fund's delivery period; the days fit the working days in it; the claim names the person
released; no exact duplicates; the same person is claimed for a day once on a bid, and an
overlap with another bid of the same school is flagged as possible double funding."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from fundflow.extensions import db
from fundflow.models import BackfillClaim
from fundflow.services import claims
from fundflow.services.errors import ValidationFailed
from tests.factories import as_of

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

#: The services' today in these tests: Monday 30 November 2026.
TODAY = date(2026, 11, 30)
#: Awards approved on Monday 2 November 2026, in a fund that opened in April.
APPROVED = date(2026, 11, 2)


@pytest.fixture(autouse=True)
def fixed_today(app):
    app.config["FUNDFLOW_TODAY"] = TODAY.isoformat()


@pytest.fixture
def fund(make):
    return make.fund(
        opens_on=date(2026, 4, 1), closes_on=date(2027, 3, 31), delivery_ends_on=date(2027, 8, 31)
    )


@pytest.fixture
def bid(make, fund):
    return make.application("approved", fund=fund, approved_on=APPROVED, days="10")


def claim_input(**overrides) -> claims.ClaimInput:
    data = {
        "period_start": "2026-11-09",  # Monday
        "period_end": "2026-11-13",  # Friday
        "staff_released": "Deputy headteacher",
        "staff_name": "Amina Khan",
        "days": "2",
        "amount_pence": 400_00,
    }
    data.update(overrides)
    return claims.ClaimInput(**data)


def claim_count() -> int:
    db.session.expire_all()
    return db.session.execute(select(func.count(BackfillClaim.id))).scalar_one()


def refused(make, bid, **overrides) -> dict[str, list[str]]:
    before = claim_count()
    with pytest.raises(ValidationFailed) as failed:
        claims.create_claim(make.lead_of(bid), bid, claim_input(**overrides))
    assert claim_count() == before
    return failed.value.fields


# ------------------------------------------------------------------ the claim period


def test_claim_before_the_award_was_approved_is_refused(make, fund):
    """The auditor's case: 2–6 Nov 2025 on an award approved 30 Nov 2026."""
    bid = make.application("approved", fund=fund, approved_on=date(2026, 11, 30))
    fields = refused(make, bid, period_start="2025-11-02", period_end="2025-11-06")
    assert fields["period_start"] == [
        "The award was approved on 30 November 2026: you can only claim for days from then on"
    ]


def test_claim_starting_the_day_before_approval_is_refused_and_on_the_day_accepted(make, bid):
    assert "period_start" in refused(make, bid, period_start="2026-11-01", period_end="2026-11-03")
    claim = claims.create_claim(
        make.lead_of(bid), bid, claim_input(period_start="2026-11-02", period_end="2026-11-03")
    )
    assert claim.period_start == APPROVED


def test_claim_for_days_that_have_not_happened_is_refused(make, bid):
    fields = refused(make, bid, period_start="2026-11-30", period_end="2026-12-01", days="1")
    assert fields["period_end"] == ["You can only claim for days that have happened"]


def test_claim_after_the_end_of_the_delivery_period_is_refused(app, make):
    fund = make.fund(
        opens_on=date(2026, 4, 1), closes_on=date(2026, 9, 30), delivery_ends_on=date(2026, 11, 20)
    )
    with as_of(date(2026, 8, 3)):  # bid for while the fund was open
        bid = make.application("approved", fund=fund, approved_on=APPROVED)
    fields = refused(make, bid, period_start="2026-11-16", period_end="2026-11-23", days="1")
    assert fields["period_end"] == [
        "The fund's delivery period ended on 20 November 2026: you can only claim for days up to then"
    ]
    accepted = claim_input(period_start="2026-11-16", period_end="2026-11-20")
    assert claims.create_claim(make.lead_of(bid), bid, accepted).period_end == date(2026, 11, 20)


def test_claim_period_ending_before_it_starts_is_refused(make, bid):
    fields = refused(make, bid, period_start="2026-11-13", period_end="2026-11-09")
    assert fields["period_end"] == ["The last day must be on or after the first day"]


# ----------------------------------------------------------------- days in the period


def test_claimed_days_more_than_the_working_days_in_the_period_are_refused(make, bid):
    # Friday 13 to Monday 16 November: two working days, four calendar days.
    fields = refused(make, bid, period_start="2026-11-13", period_end="2026-11-16", days="2.5")
    assert fields["days"] == [
        "The days released cannot be more than the 2 working days (Monday to Friday) "
        "from 13 November 2026 to 16 November 2026"
    ]
    claims.create_claim(
        make.lead_of(bid), bid, claim_input(period_start="2026-11-13", period_end="2026-11-16", days="2")
    )


def test_claim_for_a_weekend_only_is_refused(make, bid):
    fields = refused(make, bid, period_start="2026-11-14", period_end="2026-11-15", days="0.5")
    assert "0 working days" in fields["days"][0]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 11, 9), date(2026, 11, 9), 1),
        (date(2026, 11, 9), date(2026, 11, 15), 5),
        (date(2026, 11, 14), date(2026, 11, 15), 0),
        (date(2026, 11, 13), date(2026, 11, 16), 2),
        (date(2026, 11, 2), date(2026, 11, 30), 21),
        (date(2026, 11, 10), date(2026, 11, 9), 0),
    ],
)
def test_working_days_count_mondays_to_fridays_inclusive(start, end, expected):
    assert claims.working_days(start, end) == expected


# -------------------------------------------------------------- the person released


@pytest.mark.parametrize("name", [None, "", "   "])
def test_claim_without_the_name_of_the_person_released_is_refused(make, bid, name):
    fields = refused(make, bid, staff_name=name)
    assert fields["staff_name"] == ["Enter the name of the person released"]


def test_claim_with_a_name_over_200_characters_is_refused(make, bid):
    assert refused(make, bid, staff_name="A" * 201)["staff_name"] == ["Use 200 characters or fewer"]


def test_claim_stores_the_person_and_the_role(make, bid):
    claim = claims.create_claim(make.lead_of(bid), bid, claim_input(staff_name="  Amina   Khan "))
    assert (claim.staff_name, claim.staff_released) == ("Amina Khan", "Deputy headteacher")


# ------------------------------------------------------------ duplicates and overlaps


def test_exact_duplicate_of_an_existing_claim_is_refused(make, bid):
    first = claims.create_claim(make.lead_of(bid), bid, claim_input())
    fields = refused(make, bid)
    assert fields["period_start"] == [
        f"This is the same as claim {first.id} (Amina Khan, 9 November 2026 to 13 November 2026), "
        "already made on this bid"
    ]


def test_exact_duplicate_of_a_rejected_claim_is_accepted(make, bid):
    first = claims.create_claim(make.lead_of(bid), bid, claim_input())
    claims.decide_claim(make.liaison(), first, "reject", "No evidence attached")
    again = claims.create_claim(make.lead_of(bid), bid, claim_input())
    assert again.status == "pending" and again.overlaps_claim_id is None


def test_claim_overlapping_the_same_persons_claim_on_the_same_bid_is_refused(make, bid):
    first = claims.create_claim(make.lead_of(bid), bid, claim_input())
    fields = refused(
        make, bid, staff_name=" amina  KHAN", period_start="2026-11-12", period_end="2026-11-17", days="1"
    )
    assert fields["period_start"] == [
        f"Amina Khan is already claimed for 9 November 2026 to 13 November 2026 on this bid "
        f"(claim {first.id}): a person can be claimed for once a day"
    ]


def test_claims_for_the_same_person_on_days_next_to_each_other_are_accepted(make, bid):
    claims.create_claim(make.lead_of(bid), bid, claim_input())
    later = claims.create_claim(
        make.lead_of(bid), bid, claim_input(period_start="2026-11-16", period_end="2026-11-17")
    )
    assert later.overlaps_claim_id is None


def test_claims_for_different_people_on_the_same_days_are_accepted(make, bid):
    claims.create_claim(make.lead_of(bid), bid, claim_input())
    other = claims.create_claim(make.lead_of(bid), bid, claim_input(staff_name="Ben Ola"))
    assert other.status == "pending" and not other.possible_double_funding


def test_claim_overlapping_the_same_persons_claim_on_another_bid_is_flagged(make, fund):
    lead = make.headteacher()
    first_bid = make.application("approved", fund=fund, lead=lead, approved_on=APPROVED, days="10")
    second_bid = make.application("approved", fund=fund, lead=lead, approved_on=APPROVED, days="10")
    first = claims.create_claim(lead, first_bid, claim_input())
    second = claims.create_claim(
        lead,
        second_bid,
        claim_input(staff_name="AMINA KHAN", period_start="2026-11-13", period_end="2026-11-16"),
    )
    assert second.status == "pending"
    assert second.possible_double_funding and second.overlaps_claim_id == first.id
    assert not first.possible_double_funding


def test_overlap_with_a_rejected_claim_on_another_bid_is_not_flagged(make, fund):
    lead = make.headteacher()
    first_bid = make.application("approved", fund=fund, lead=lead, approved_on=APPROVED, days="10")
    second_bid = make.application("approved", fund=fund, lead=lead, approved_on=APPROVED, days="10")
    first = claims.create_claim(lead, first_bid, claim_input())
    claims.decide_claim(make.liaison(), first, "reject", "Wrong bid")
    second = claims.create_claim(lead, second_bid, claim_input())
    assert not second.possible_double_funding


def test_same_name_at_another_school_is_not_flagged(make, fund):
    first_bid = make.application("approved", fund=fund, approved_on=APPROVED, days="10")
    second_bid = make.application("approved", fund=fund, approved_on=APPROVED, days="10")
    claims.create_claim(make.lead_of(first_bid), first_bid, claim_input())
    second = claims.create_claim(make.lead_of(second_bid), second_bid, claim_input())
    assert not second.possible_double_funding


# ------------------------------------------------------------------------ the site


def _date(value: str) -> list[str]:
    day = date.fromisoformat(value)
    return [str(day.day), str(day.month), str(day.year)]


def claim_form(**overrides) -> dict:
    data = {
        "period_start": _date("2026-11-09"),
        "period_end": _date("2026-11-13"),
        "staff_name": "Amina Khan",
        "staff_released": "Deputy headteacher",
        "days": "2",
        "amount": "400.00",
        "evidence": (io.BytesIO(PDF), "cover.pdf"),
    }
    data.update(overrides)
    return data


def post_claim(client, bid, **overrides):
    return client.post(
        f"/headteacher/bids/{bid.reference}/claims/new",
        data=claim_form(**overrides),
        content_type="multipart/form-data",
    )


def field_error(page: str, field: str) -> str:
    match = re.search(rf'<p id="{field}(?:-date)?-error" class="govuk-error-message">(.*?)</p>', page, re.S)
    assert match, f"no error on {field}"
    return " ".join(re.sub(r"<[^>]+>", "", match.group(1)).split())


def test_site_claim_before_the_award_was_approved_is_refused_on_its_field(client, auth, make, fund):
    bid = make.application("approved", fund=fund, approved_on=date(2026, 11, 30))
    auth.login(make.lead_of(bid))
    response = post_claim(
        client, bid, period_start=_date("2025-11-02"), period_end=_date("2025-11-06"), days="1"
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "govuk-error-summary" in page and 'href="#period_start' in page
    assert "approved on 30 November 2026" in field_error(page, "period_start")
    assert claim_count() == 0


def test_site_claim_without_the_persons_name_is_refused_on_its_field(client, auth, make, bid):
    auth.login(make.lead_of(bid))
    response = post_claim(client, bid, staff_name="")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(page, "staff_name") == "Error: Enter the name of the person released"
    assert claim_count() == 0


def test_site_claimed_days_more_than_the_working_days_are_refused_on_their_field(client, auth, make, bid):
    auth.login(make.lead_of(bid))
    response = post_claim(client, bid, period_start=_date("2026-11-14"), period_end=_date("2026-11-16"))
    assert response.status_code == 422
    assert "1 working day (Monday to Friday)" in field_error(response.get_data(as_text=True), "days")


def test_site_exact_duplicate_claim_is_refused_on_its_field(client, auth, make, bid):
    auth.login(make.lead_of(bid))
    assert post_claim(client, bid).status_code == 302
    response = post_claim(client, bid)
    assert response.status_code == 422
    assert "This is the same as claim" in field_error(response.get_data(as_text=True), "period_start")
    assert claim_count() == 1


def test_site_claim_after_the_delivery_period_is_refused_on_its_field(client, auth, make):
    fund = make.fund(
        opens_on=date(2026, 4, 1), closes_on=date(2026, 9, 30), delivery_ends_on=date(2026, 11, 10)
    )
    with as_of(date(2026, 8, 3)):  # bid for while the fund was open
        bid = make.application("approved", fund=fund, approved_on=APPROVED)
    auth.login(make.lead_of(bid))
    response = post_claim(client, bid)
    assert response.status_code == 422
    assert "delivery period ended on 10 November 2026" in field_error(
        response.get_data(as_text=True), "period_end"
    )


def test_possible_double_funding_is_shown_on_the_liaison_claim_page_and_queue(client, auth, make, fund):
    lead = make.headteacher()
    first_bid = make.application("approved", fund=fund, lead=lead, approved_on=APPROVED, days="10")
    second_bid = make.application("approved", fund=fund, lead=lead, approved_on=APPROVED, days="10")
    claims.create_claim(lead, first_bid, claim_input())
    flagged = claims.create_claim(lead, second_bid, claim_input(period_start="2026-11-10"))
    clean = claims.create_claim(lead, second_bid, claim_input(staff_name="Ben Ola"))
    officer = make.liaison()
    auth.login(officer)
    page = client.get(f"/liaison/claims/{flagged.id}").get_data(as_text=True)
    assert "Possible double funding" in page
    assert first_bid.reference in page
    assert "Amina Khan, Deputy headteacher" in page
    assert "Possible double funding" not in client.get(f"/liaison/claims/{clean.id}").get_data(as_text=True)
    queue = client.get("/liaison/?section=claims").get_data(as_text=True)
    row = re.search(rf"Claim {flagged.id}<span.*?</tr>", queue, re.S)
    assert row and "Possible double funding" in row.group(0)
    clean_row = re.search(rf"Claim {clean.id}<span.*?</tr>", queue, re.S)
    assert clean_row and "Possible double funding" not in clean_row.group(0)


def test_new_claim_page_says_the_window_for_claims(client, auth, make, bid):
    auth.login(make.lead_of(bid))
    page = client.get(f"/headteacher/bids/{bid.reference}/claims/new").get_data(as_text=True)
    assert "2 November 2026" in page and "31 August 2027" in page
    assert 'name="staff_name"' in page


def test_factory_claims_fall_within_the_award_window(make):
    bid = make.application("approved")
    claim = make.claim(bid)
    assert bid.approved_on <= claim.period_start <= claim.period_end <= TODAY
    assert bid.approved_on == TODAY - timedelta(days=28)
