"""Idempotency-Key: a retried POST replays its first answer and never writes twice."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from fundflow.api.core import OPERATIONS
from fundflow.extensions import db
from fundflow.models import Application, BackfillClaim, Disbursement, Event, IdempotencyKey, utcnow
from fundflow.services import idempotency
from fundflow.services.clock import today
from tests.factories import Factory

from .conftest import Api, bid_body, error_of

KEY = "3f0c1d2e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"


def count(model) -> int:
    db.session.rollback()  # a fresh look at what the requests committed
    return db.session.scalar(select(func.count()).select_from(model))


def keyed(key: str = KEY) -> dict[str, str]:
    return {idempotency.HEADER: key}


@pytest.fixture
def bid(make):
    head = make.headteacher()
    return head, bid_body(make.fund(), make.school())


def test_same_key_and_body_replays_the_first_answer_and_makes_one_bid(api, bid):
    head, body = bid
    first = api.post("/applications", head, json=body, headers=keyed())
    again = api.post("/applications", head, json=body, headers=keyed())
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert count(Application) == 1
    assert db.session.scalar(select(func.count()).where(Event.action == "create")) == 1


def test_same_body_in_another_key_order_and_spacing_still_replays(api, bid):
    head, body = bid
    first = api.post("/applications", head, json=body, headers=keyed())
    reordered = dict(reversed(list(body.items())))
    again = api.post("/applications", head, json=reordered, headers=keyed())
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json() == first.get_json()
    assert count(Application) == 1


def test_same_key_with_a_different_body_is_refused_with_422_and_writes_nothing(api, bid):
    head, body = bid
    api.post("/applications", head, json=body, headers=keyed())
    changed = api.post("/applications", head, json={**body, "title": "Another bid"}, headers=keyed())
    assert changed.status_code == 422
    error = error_of(changed)
    assert error["code"] == "idempotency_key_reused"
    assert list(error["fields"]) == ["Idempotency-Key"]
    assert count(Application) == 1


def test_same_key_on_a_different_path_is_refused_with_422(api, bid):
    head, body = bid
    reference = api.post("/applications", head, json=body, headers=keyed()).get_json()["reference"]
    other = api.post(f"/applications/{reference}/actions", head, json={"action": "withdraw"}, headers=keyed())
    assert other.status_code == 422
    assert error_of(other)["code"] == "idempotency_key_reused"
    assert db.session.scalar(select(func.count()).where(Event.action == "withdraw")) == 0


def test_two_users_may_use_the_same_key_string(api, make):
    fund, partner = make.fund(), make.school()
    first, second = make.headteacher(), make.headteacher()
    one = api.post("/applications", first, json=bid_body(fund, partner), headers=keyed())
    two = api.post("/applications", second, json=bid_body(fund, partner), headers=keyed())
    assert one.status_code == two.status_code == 201
    assert "Idempotent-Replayed" not in two.headers
    assert one.get_json()["reference"] != two.get_json()["reference"]
    assert count(Application) == 2 and count(IdempotencyKey) == 2


def test_without_a_key_each_post_writes(api, bid):
    head, body = bid
    api.post("/applications", head, json=body)
    api.post("/applications", head, json=body)
    assert count(Application) == 2 and count(IdempotencyKey) == 0


def test_a_refused_request_keeps_no_key_and_is_decided_again(api, make):
    head = make.headteacher()
    app = make.application("submitted", lead=head)
    path = f"/applications/{app.reference}/actions"
    refused = api.post(path, head, json={"action": "submit"}, headers=keyed())
    assert refused.status_code == 409
    assert count(IdempotencyKey) == 0
    again = api.post(path, head, json={"action": "submit"}, headers=keyed())
    assert again.status_code == 409 and "Idempotent-Replayed" not in again.headers


def test_a_failure_after_the_service_committed_leaves_neither_the_record_nor_the_key(api, bid, monkeypatch):
    from fundflow.api import present

    head, body = bid

    def broken(*args, **kwargs):
        raise RuntimeError("the answer could not be built")

    monkeypatch.setattr(present, "application", broken)
    response = api.post("/applications", head, json=body, headers=keyed())
    assert response.status_code == 500
    assert count(Application) == 0 and count(IdempotencyKey) == 0
    assert db.session.scalar(select(func.count()).where(Event.action == "create")) == 0
    monkeypatch.undo()
    retried = api.post("/applications", head, json=body, headers=keyed())
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert count(Application) == 1 and count(IdempotencyKey) == 1


def test_when_two_requests_miss_each_other_the_second_insert_rolls_back_its_write(api, bid, monkeypatch):
    """The unique (user, key) constraint backs up the lookup: a request that did not see
    the first one's key loses its whole transaction, record and all (409)."""
    head, body = bid
    first = api.post("/applications", head, json=body, headers=keyed())
    monkeypatch.setattr(idempotency, "claim", lambda *args, **kwargs: None)
    second = api.post("/applications", head, json=body, headers=keyed())
    assert first.status_code == 201
    assert second.status_code == 409
    assert error_of(second)["code"] == "idempotency_key_in_use"
    assert count(Application) == 1 and count(IdempotencyKey) == 1
    assert db.session.scalar(select(func.count()).where(Event.action == "create")) == 1


@pytest.mark.parametrize("key", ["", " ", "a" * 256, "two words", "tab\there", "caf\u00e9"])
def test_a_malformed_key_is_refused_with_422(api, bid, key):
    head, body = bid
    response = api.post("/applications", head, json=body, headers={idempotency.HEADER: key})
    assert response.status_code == 422
    assert list(error_of(response)["fields"]) == ["Idempotency-Key"]
    assert count(Application) == 0


def test_a_key_of_255_visible_characters_is_accepted(api, bid):
    head, body = bid
    response = api.post("/applications", head, json=body, headers=keyed("k" * 254 + "~"))
    assert response.status_code == 201


def test_the_key_needs_a_valid_token_first(api, bid):
    _, body = bid
    response = api.client.post("/api/v1/applications", json=body, headers=keyed())
    assert response.status_code == 401
    assert count(IdempotencyKey) == 0


def test_tokens_post_ignores_the_header(api, make):
    user = make.headteacher()
    body = {"email": user.email, "password": "correct-horse-battery"}
    from tests.factories import PASSWORD

    body["password"] = PASSWORD
    one = api.client.post("/api/v1/tokens", json=body, headers=keyed())
    two = api.client.post("/api/v1/tokens", json=body, headers=keyed())
    assert one.status_code == two.status_code == 201
    assert one.get_json()["token"] != two.get_json()["token"]
    assert count(IdempotencyKey) == 0


def test_an_expired_key_is_ignored_and_purged_by_the_next_write(api, bid):
    head, body = bid
    api.post("/applications", head, json=body, headers=keyed())
    db.session.execute(
        IdempotencyKey.__table__.update().values(created_at=utcnow() - timedelta(hours=24, seconds=1))
    )
    db.session.commit()
    again = api.post("/applications", head, json=body, headers=keyed())
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert count(Application) == 2
    rows = db.session.scalars(select(IdempotencyKey)).all()
    assert len(rows) == 1 and rows[0].created_at > utcnow() - timedelta(minutes=1)


def test_a_key_younger_than_24_hours_still_replays(api, bid):
    head, body = bid
    api.post("/applications", head, json=body, headers=keyed())
    db.session.execute(
        IdempotencyKey.__table__.update().values(created_at=utcnow() - timedelta(hours=23, minutes=59))
    )
    db.session.commit()
    again = api.post("/applications", head, json=body, headers=keyed())
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert count(Application) == 1


def test_purge_command_deletes_only_expired_keys(api, make, runner):
    fund, partner = make.fund(), make.school()
    head = make.headteacher()
    api.post("/applications", head, json=bid_body(fund, partner), headers=keyed("old"))
    api.post("/applications", head, json=bid_body(fund, partner), headers=keyed("new"))
    db.session.execute(
        IdempotencyKey.__table__.update()
        .where(IdempotencyKey.key == "old")
        .values(created_at=utcnow() - timedelta(days=2))
    )
    db.session.commit()
    result = runner.invoke(args=["fundflow", "purge-idempotency-keys"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 expired idempotency key" in result.output
    assert db.session.scalars(select(IdempotencyKey.key)).all() == ["new"]


def claim_body(app: Application) -> dict[str, object]:
    """A claim for the days since the award's approval, up to yesterday."""
    end = today() - timedelta(days=1)
    start = max(end - timedelta(days=6), app.approved_on or end)
    end = max(start, end)
    return {
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "staff_released": "Deputy head",
        "staff_name": "Sam Jones",
        "days": 1,
        "amount_pence": 300_00,
    }


def test_claim_verification_and_payment_each_record_once_when_retried(api, make):
    head, liaison, finance = make.headteacher(), make.liaison(), make.user("finance")
    app = make.application("approved", lead=head, liaison=liaison)
    claim_path = f"/applications/{app.reference}/claims"
    claims = [api.post(claim_path, head, json=claim_body(app), headers=keyed("claim")) for _ in range(2)]
    assert [r.status_code for r in claims] == [201, 201], claims[0].get_json()
    claim_id = claims[0].get_json()["id"]
    verify = {"action": "verify", "comment": ""}
    verified = [
        api.post(f"/claims/{claim_id}/actions", liaison, json=verify, headers=keyed("verify"))
        for _ in range(2)
    ]
    assert [r.status_code for r in verified] == [200, 200], verified[0].get_json()
    pay = {"amount_pence": 300_00, "paid_on": today().isoformat(), "reference": "PAY-0001"}
    paid = [
        api.post(f"/claims/{claim_id}/disbursements", finance, json=pay, headers=keyed("pay"))
        for _ in range(2)
    ]
    assert [r.status_code for r in paid] == [201, 201], paid[0].get_json()
    assert paid[1].get_json() == paid[0].get_json()
    assert count(BackfillClaim) == 1 and count(Disbursement) == 1
    assert db.session.scalar(select(func.count()).where(Event.action == "verify")) == 1


def test_approval_retried_is_recorded_once(api, make):
    liaison = make.liaison()
    app = make.application("under_review", liaison=liaison)
    body = {"action": "approve", "awarded_pence": app.requested_pence, "comment": "Good plan"}
    path = f"/applications/{app.reference}/actions"
    first = api.post(path, liaison, json=body, headers=keyed())
    again = api.post(path, liaison, json=body, headers=keyed())
    assert first.status_code == 200, first.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert db.session.scalar(select(func.count()).where(Event.action == "approve")) == 1


def test_openapi_offers_the_header_on_every_post_but_tokens(client):
    document = client.get("/api/v1/openapi.json").get_json()
    posts = {
        path: operations["post"] for path, operations in document["paths"].items() if "post" in operations
    }
    assert len(posts) == sum(1 for op in OPERATIONS if op.method == "POST")
    for path, operation in posts.items():
        headers = [p for p in operation.get("parameters", []) if p.get("in") == "header"]
        names = [p["name"] for p in headers]
        if path == "/api/v1/tokens":
            assert "Idempotency-Key" not in names
            continue
        assert names.count("Idempotency-Key") == 1, path
        header = next(p for p in headers if p["name"] == "Idempotency-Key")
        assert header["required"] is False
        assert header["schema"]["maxLength"] == 255
        assert {"409", "422"} <= set(operation["responses"]), path


# --------------------------------------------------------------------------------------
# PostgreSQL: at the same moment
# --------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_same_key_from_many_threads_at_once_writes_exactly_once(pg_app):
    make = Factory()
    head = make.headteacher()
    body = bid_body(make.fund(), make.school())
    api = Api(pg_app.test_client())
    headers = {**api.headers(head), **keyed()}
    threads_count = 12
    barrier = threading.Barrier(threads_count)
    answers: list[tuple[int, dict, bool]] = []

    def send() -> None:
        client = pg_app.test_client()
        barrier.wait()
        response = client.post("/api/v1/applications", json=body, headers=headers)
        answers.append(
            (response.status_code, response.get_json(), response.headers.get("Idempotent-Replayed") == "true")
        )

    threads = [threading.Thread(target=send) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert count(Application) == 1 and count(IdempotencyKey) == 1
    statuses = sorted(status for status, _, _ in answers)
    assert set(statuses) <= {201, 409}, answers
    originals = [json for status, json, replayed in answers if status == 201 and not replayed]
    assert len(originals) == 1
    for status, json, _ in answers:
        if status == 201:
            assert json == originals[0]
        else:
            assert json["error"]["code"] == "idempotency_key_in_use"
    retried = pg_app.test_client().post("/api/v1/applications", json=body, headers=headers)
    assert retried.headers.get("Idempotent-Replayed") == "true"
    assert retried.get_json() == originals[0]
    assert count(Application) == 1


@pytest.mark.postgres
def test_a_repeat_while_the_first_is_still_running_is_409(pg_app):
    make = Factory()
    head = make.headteacher()
    body = bid_body(make.fund(), make.school())
    api = Api(pg_app.test_client())
    lock_id = idempotency._advisory_lock_id(head.id, KEY)
    with db.engine.connect() as other:  # stands for the first request, mid-transaction
        other.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})
        running = api.post("/applications", head, json=body, headers=keyed())
        other.rollback()
    assert running.status_code == 409
    assert error_of(running)["code"] == "idempotency_key_in_use"
    assert count(Application) == 0
    done = api.post("/applications", head, json=body, headers=keyed())
    assert done.status_code == 201


@pytest.mark.postgres
def test_replay_and_purge_work_on_postgresql(pg_app):
    make = Factory()
    head = make.headteacher()
    body = bid_body(make.fund(), make.school())
    api = Api(pg_app.test_client())
    api.post("/applications", head, json=body, headers=keyed("stale"))
    db.session.execute(IdempotencyKey.__table__.update().values(created_at=utcnow() - timedelta(days=3)))
    db.session.commit()
    first = api.post("/applications", head, json=body, headers=keyed())
    again = api.post("/applications", head, json=body, headers=keyed())
    assert again.headers.get("Idempotent-Replayed") == "true" and again.get_json() == first.get_json()
    assert count(Application) == 2
    assert db.session.scalars(select(IdempotencyKey.key)).all() == [KEY]  # the stale key was purged


@pytest.mark.postgres
def test_keyed_requests_racing_in_one_fund_all_succeed_once(pg_app):
    """Savepoints inside the guarded transaction: the service's lock order and retry still
    hold when 24 keyed bids and their retries race in one fund."""
    make = Factory()
    fund, partner = make.fund(), make.school()
    heads = [make.headteacher() for _ in range(4)]
    api = Api(pg_app.test_client())
    headers = [api.headers(head) for head in heads]
    body = bid_body(fund, partner)
    jobs = [(headers[n % len(heads)], f"bid-{n}") for n in range(24)] * 2  # each key sent twice
    barrier = threading.Barrier(len(jobs))
    answers: list[tuple[str, int, str | None]] = []

    def send(auth: dict[str, str], key: str) -> None:
        client = pg_app.test_client()
        barrier.wait()
        response = client.post("/api/v1/applications", json=body, headers={**auth, **keyed(key)})
        answers.append((key, response.status_code, (response.get_json() or {}).get("reference")))

    threads = [threading.Thread(target=send, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(answers) == len(jobs)
    assert {status for _, status, _ in answers} <= {201, 409}, sorted(answers)
    assert count(Application) == 24 and count(IdempotencyKey) == 24
    references: dict[str, set[str]] = {}
    for key, status, reference in answers:
        if status == 201:
            references.setdefault(key, set()).add(reference)
    assert all(len(refs) == 1 for refs in references.values()), references
    assert len({ref for refs in references.values() for ref in refs}) == len(references)
