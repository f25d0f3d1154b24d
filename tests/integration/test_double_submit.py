"""A form sent twice — a double click, or back and send again — is recorded once."""

from __future__ import annotations

import io
import re
import threading

import pytest
from sqlalchemy import func, select

from fundflow.extensions import db
from fundflow.forms import FORM_TOKEN, REPEAT_MESSAGE
from fundflow.models import Application, BackfillClaim, Disbursement, Event, IdempotencyKey
from tests.factories import PASSWORD, Factory

from .test_finance import csrf_token, pay_form
from .test_headteacher_claims_reports import PDF, _claim_form

TOKEN_INPUT = re.compile(rf'<input type="hidden" name="{FORM_TOKEN}" value="([^"]+)">')


def token_on(client, url: str) -> str:
    """The one-time token of the form the page at ``url`` renders."""
    page = client.get(url)
    assert page.status_code == 200, url
    tokens = TOKEN_INPUT.findall(page.text)
    assert len(tokens) == 1, f"{url} has {len(tokens)} form tokens"
    return tokens[0]


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def events(action: str) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).where(Event.action == action))


def send_twice(client, url: str, data: dict, **kwargs):
    token = token_on(client, url)
    first = client.post(url, data={**data(), FORM_TOKEN: token}, **kwargs)
    again = client.post(url, data={**data(), FORM_TOKEN: token}, **kwargs)
    return first, again


def assert_second_went_where_the_first_did(first, again) -> None:
    assert first.status_code == 302, first.text[:500]
    assert again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]


def test_a_new_bid_sent_twice_is_started_once(client, auth, make):
    head, fund = make.headteacher(), make.fund()
    auth.login(head)
    first, again = send_twice(
        client, "/headteacher/bids/new", lambda: {"fund": str(fund.id), "title": "Maths mastery"}
    )
    assert_second_went_where_the_first_did(first, again)
    assert count(Application) == 1 and events("create") == 1
    page = client.get(again.headers["Location"]).text
    assert REPEAT_MESSAGE in page


def test_a_claim_sent_twice_is_made_once(client, auth, make):
    head = make.headteacher()
    approved = make.application("approved", lead=head)
    auth.login(head)
    first, again = send_twice(
        client,
        f"/headteacher/bids/{approved.reference}/claims/new",
        lambda: _claim_form(evidence=(io.BytesIO(PDF), "invoice.pdf")),
        content_type="multipart/form-data",
    )
    assert_second_went_where_the_first_did(first, again)
    assert count(BackfillClaim) == 1 and events("create_claim") == 1


def test_a_payment_sent_twice_is_recorded_once(client, auth, make):
    claim = make.claim(make.application("approved"), amount_pence=300_00, state="verified")
    finance = make.user("finance")
    auth.login(finance)
    first, again = send_twice(client, f"/finance/claims/{claim.id}/pay", lambda: pay_form("100.00"))
    assert_second_went_where_the_first_did(first, again)
    assert count(Disbursement) == 1 and events("record_disbursement") == 1


def test_an_approval_sent_twice_is_decided_once(client, auth, make):
    app = make.application("under_review")
    auth.login(make.liaison())
    first, again = send_twice(
        client, f"/liaison/bids/{app.reference}/decide/approve", lambda: {"awarded": "1000", "comment": ""}
    )
    assert_second_went_where_the_first_did(first, again)
    assert events("approve") == 1


def test_starting_a_review_from_the_button_twice_is_recorded_once(client, auth, make):
    app = make.application("submitted")
    auth.login(make.liaison())
    url = f"/liaison/bids/{app.reference}"
    token = token_on(client, url)
    first = client.post(f"{url}/start-review", data={FORM_TOKEN: token})
    again = client.post(f"{url}/start-review", data={FORM_TOKEN: token})
    assert_second_went_where_the_first_did(first, again)
    assert events("start_review") == 1


def test_a_server_error_after_the_write_leaves_neither_the_record_nor_the_token(
    client, auth, make, monkeypatch
):
    from fundflow.headteacher import routes

    head, fund = make.headteacher(), make.fund()
    auth.login(head)
    token = token_on(client, "/headteacher/bids/new")

    def broken(*args, **kwargs):
        raise RuntimeError("the page could not be built")

    monkeypatch.setattr(routes, "redirect", broken)
    data = {"fund": str(fund.id), "title": "Maths mastery", FORM_TOKEN: token}
    assert client.post("/headteacher/bids/new", data=data).status_code == 500
    assert count(Application) == 0 and count(IdempotencyKey) == 0 and events("create") == 0
    monkeypatch.undo()
    assert client.post("/headteacher/bids/new", data=data).status_code == 302
    assert count(Application) == 1


def test_a_form_refused_with_errors_keeps_its_token_usable(client, auth, make):
    head, fund = make.headteacher(), make.fund()
    auth.login(head)
    url = "/headteacher/bids/new"
    token = token_on(client, url)
    refused = client.post(url, data={"fund": str(fund.id), "title": "", FORM_TOKEN: token})
    assert refused.status_code == 422
    assert count(IdempotencyKey) == 0
    fixed = client.post(url, data={"fund": str(fund.id), "title": "Maths mastery", FORM_TOKEN: token})
    assert fixed.status_code == 302
    assert count(Application) == 1


def test_each_rendering_of_a_form_is_a_new_submission(client, auth, make):
    head, fund = make.headteacher(), make.fund()
    auth.login(head)
    for title in ("Maths mastery", "Phonics partnership"):
        token = token_on(client, "/headteacher/bids/new")
        response = client.post(
            "/headteacher/bids/new", data={"fund": str(fund.id), "title": title, FORM_TOKEN: token}
        )
        assert response.status_code == 302
    assert count(Application) == 2


def test_one_users_token_does_not_stop_another_user(client, auth, make):
    fund = make.fund()
    first, second = make.headteacher(), make.headteacher()
    url = "/headteacher/bids/new"
    auth.login(first)
    token = token_on(client, url)
    client.post(url, data={"fund": str(fund.id), "title": "Maths mastery", FORM_TOKEN: token})
    auth.logout()
    auth.login(second)
    response = client.post(url, data={"fund": str(fund.id), "title": "Maths mastery", FORM_TOKEN: token})
    assert response.status_code == 302
    assert count(Application) == 2


def test_a_form_without_a_token_still_works(client, auth, make):
    head, fund = make.headteacher(), make.fund()
    auth.login(head)
    response = client.post("/headteacher/bids/new", data={"fund": str(fund.id), "title": "Maths mastery"})
    assert response.status_code == 302
    assert count(Application) == 1 and count(IdempotencyKey) == 0


def test_submit_buttons_ignore_a_double_click_in_the_browser(client, auth, make):
    head = make.headteacher()
    make.fund()
    auth.login(head)
    page = client.get("/headteacher/bids/new").text
    assert re.search(r'<button [^>]*type="submit"[^>]*data-prevent-double-click="true"', page) or re.search(
        r'<button [^>]*data-prevent-double-click="true"[^>]*type="submit"', page
    )


@pytest.mark.postgres
def test_a_double_click_on_postgresql_records_once_and_both_clicks_land_together(pg_app):
    make = Factory()
    head, fund = make.headteacher(), make.fund()
    form = {"fund": str(fund.id), "title": "Maths mastery"}
    clients = [pg_app.test_client() for _ in range(6)]
    for client in clients:
        with pg_app.app_context():  # its own context: no signed-in user cached from the last one
            client.post("/sign-in", data={"email": head.email, "password": PASSWORD})
    with pg_app.app_context():
        token = token_on(clients[0], "/headteacher/bids/new")
    barrier = threading.Barrier(len(clients))
    answers: list[tuple[int, str]] = []

    def click(client) -> None:
        barrier.wait()
        response = client.post("/headteacher/bids/new", data={**form, FORM_TOKEN: token})
        answers.append((response.status_code, response.headers.get("Location", "")))

    threads = [threading.Thread(target=click, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert count(Application) == 1 and events("create") == 1 and count(IdempotencyKey) == 1
    assert sorted(status for status, _ in answers) == [302] + [303] * (len(clients) - 1), answers
    assert len({location for _, location in answers}) == 1


def test_a_token_sent_to_another_form_records_that_form_and_does_not_replay_the_first(client, auth, make):
    approved = make.application("approved")
    first_claim = make.claim(approved, amount_pence=300_00, state="verified")
    other_claim = make.claim(approved, amount_pence=200_00, state="verified")
    auth.login(make.user("finance"))
    token = token_on(client, f"/finance/claims/{first_claim.id}/pay")
    first = client.post(
        f"/finance/claims/{first_claim.id}/pay", data={**pay_form("300.00"), FORM_TOKEN: token}
    )
    other = client.post(
        f"/finance/claims/{other_claim.id}/pay",
        data={**pay_form("200.00", reference="BACS-0002"), FORM_TOKEN: token},
    )
    assert first.status_code == other.status_code == 302, other.text[:500]  # not 303, a replay
    db.session.rollback()
    paid = db.session.execute(select(Disbursement.claim_id, Disbursement.amount_pence)).all()
    assert sorted(paid) == [(first_claim.id, 300_00), (other_claim.id, 200_00)]
    assert count(IdempotencyKey) == 1  # the token stays with the form it was first sent to
    again = client.post(
        f"/finance/claims/{first_claim.id}/pay", data={**pay_form("300.00"), FORM_TOKEN: token}
    )
    assert_second_went_where_the_first_did(first, again)


def test_a_token_sent_to_a_form_of_another_role_meets_that_forms_role_check(client, auth, make):
    head, fund = make.headteacher(), make.fund()
    claim = make.claim(make.application("approved", lead=head), amount_pence=300_00, state="verified")
    auth.login(head)
    token = token_on(client, "/headteacher/bids/new")
    created = client.post(
        "/headteacher/bids/new", data={"fund": str(fund.id), "title": "Maths mastery", FORM_TOKEN: token}
    )
    assert created.status_code == 302
    refused = client.post(f"/finance/claims/{claim.id}/pay", data={**pay_form(), FORM_TOKEN: token})
    assert refused.status_code == 403
    assert count(Disbursement) == 0


def test_a_repeated_form_without_its_csrf_token_is_refused_not_replayed():
    from tests.conftest import forget_user_between_requests, make_app

    app = make_app(WTF_CSRF_ENABLED=True)
    forget_user_between_requests(app)
    with app.app_context():
        db.create_all()
        try:
            make = Factory()
            finance = make.user("finance")
            claim = make.claim(make.application("approved"), amount_pence=300_00, state="verified")
            client = app.test_client()
            sign_in = client.get("/sign-in").text
            client.post(
                "/sign-in",
                data={"email": finance.email, "password": PASSWORD, "csrf_token": csrf_token(sign_in)},
            )
            url = f"/finance/claims/{claim.id}/pay"
            page = client.get(url).text
            form = {**pay_form(), "csrf_token": csrf_token(page), FORM_TOKEN: TOKEN_INPUT.findall(page)[0]}
            first = client.post(url, data=form)
            assert first.status_code == 302
            forged = client.post(url, data={k: v for k, v in form.items() if k != "csrf_token"})
            assert forged.status_code == 400
            again = client.post(url, data=form)
            assert_second_went_where_the_first_did(first, again)
            assert count(Disbursement) == 1
        finally:
            db.session.remove()
            db.drop_all()
