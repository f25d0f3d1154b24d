"""Verifying backfill claims and evaluating impact reports as a liaison officer."""

from __future__ import annotations

from datetime import timedelta

from fundflow.extensions import db
from fundflow.models import BackfillClaim, ImpactReport
from fundflow.services import claims, impact
from fundflow.services.clock import today
from fundflow.services.evidence import Upload

ERROR_SUMMARY = "govuk-error-summary"
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def fresh_claim(claim: BackfillClaim) -> BackfillClaim:
    db.session.expire_all()
    return db.session.get(BackfillClaim, claim.id)


def claim_with_evidence(make, app, amount_pence: int = 600_00) -> BackfillClaim:
    end = today() - timedelta(days=2)
    return claims.create_claim(
        make.lead_of(app),
        app,
        claims.ClaimInput(
            period_start=(end - timedelta(days=6)).isoformat(),
            period_end=end.isoformat(),
            staff_released="Deputy head",
            staff_name=f"Claimant {amount_pence}",
            days="2",
            amount_pence=amount_pence,
            evidence=Upload("cover-invoice.pdf", PDF),
        ),
    )


def report_on(make, app, kind: str = "interim") -> ImpactReport:
    return impact.submit_report(
        make.lead_of(app),
        app,
        impact.ReportInput(
            kind=kind,
            narrative="Phonics teaching is more consistent across both schools.",
            results=[impact.ResultInput(measure_id=m.id, actual="71.5") for m in app.measures],
        ),
    )


# -------------------------------------------------------------------------------- claims


def test_claim_page_shows_evidence_days_amounts_and_the_award(client, auth, make):
    app = make.application("approved")
    make.claim(app, amount_pence=300_00, state="verified")
    claim = claim_with_evidence(make, app)
    auth.login(make.liaison())
    page = client.get(f"/liaison/claims/{claim.id}").text
    assert f"/evidence/{claim.evidence_id}" in page and "cover-invoice.pdf" in page
    assert "Deputy head" in page
    assert "£600.00" in page and "£300.00 a day" in page
    assert "£1,200.00" in page  # the award
    assert "Verified so far" in page and "£300.00" in page
    assert "Verify the claim" in page and "Reject the claim" in page


def test_evidence_link_downloads_the_file_for_the_officer(client, auth, make):
    app = make.application("approved")
    claim = claim_with_evidence(make, app)
    auth.login(make.liaison())
    response = client.get(f"/evidence/{claim.evidence_id}")
    assert response.status_code == 200 and response.data == PDF


def test_liaison_officer_verifies_a_claim(client, auth, make):
    app = make.application("approved")
    claim = make.claim(app)
    officer = make.liaison()
    auth.login(officer)
    response = client.post(
        f"/liaison/claims/{claim.id}", data={"decision": "verify", "comment": ""}, follow_redirects=True
    )
    assert response.status_code == 200
    assert f"Claim {claim.id} verified" in response.text
    claim = fresh_claim(claim)
    assert (claim.status, claim.verified_by_id) == ("verified", officer.id)


def test_liaison_officer_rejects_a_claim_with_a_reason(client, auth, make):
    app = make.application("approved")
    claim = make.claim(app)
    auth.login(make.liaison())
    response = client.post(
        f"/liaison/claims/{claim.id}",
        data={"decision": "reject", "comment": "Dates overlap."},
        follow_redirects=True,
    )
    assert f"Claim {claim.id} rejected" in response.text
    claim = fresh_claim(claim)
    assert (claim.status, claim.decision_comment) == ("rejected", "Dates overlap.")


def test_rejecting_a_claim_needs_a_reason(client, auth, make):
    app = make.application("approved")
    claim = make.claim(app)
    auth.login(make.liaison())
    response = client.post(f"/liaison/claims/{claim.id}", data={"decision": "reject", "comment": ""})
    assert response.status_code == 422
    assert ERROR_SUMMARY in response.text and "Give the reason" in response.text
    assert fresh_claim(claim).status == "pending"


def test_claim_decision_must_be_chosen(client, auth, make):
    app = make.application("approved")
    claim = make.claim(app)
    auth.login(make.liaison())
    for decision in ("", "pay"):
        response = client.post(f"/liaison/claims/{claim.id}", data={"decision": decision})
        assert response.status_code == 422
        assert "Choose verify or reject" in response.text
    assert fresh_claim(claim).status == "pending"


def test_liaison_officer_cannot_verify_claim_from_own_school(client, auth, make):
    school = make.school()
    app = make.application("approved", partner=school)
    claim = make.claim(app)
    auth.login(make.liaison(school=school))
    page = client.get(f"/liaison/claims/{claim.id}").text
    assert "You cannot act on this: your school takes part" in page
    assert "Save decision" not in page
    response = client.post(f"/liaison/claims/{claim.id}", data={"decision": "verify"})
    assert response.status_code == 403
    assert fresh_claim(claim).status == "pending"


def test_verifying_a_verified_claim_again_is_refused(client, auth, make):
    app = make.application("approved")
    claim = make.claim(app, state="verified")
    auth.login(make.liaison())
    page = client.get(f"/liaison/claims/{claim.id}").text
    assert "Verify the claim" not in page and "Reject the claim" in page
    response = client.post(f"/liaison/claims/{claim.id}", data={"decision": "verify"})
    assert response.status_code == 409
    assert fresh_claim(claim).status == "verified"


def test_unknown_claim_is_not_found(client, auth, make):
    auth.login(make.liaison())
    assert client.get("/liaison/claims/999").status_code == 404


# ------------------------------------------------------------------------ impact reports


def test_report_page_shows_results_against_each_measure(client, auth, make):
    app = make.application("approved")
    report = report_on(make, app)
    auth.login(make.liaison())
    page = client.get(f"/liaison/reports/{report.id}").text
    assert "Phonics pass rate" in page
    assert ">60<" in page.replace(" ", "").replace("\n", "")  # baseline
    assert "75" in page and "71.5" in page  # target and actual
    assert "Phonics teaching is more consistent" in page
    for label in ("Achieved", "Partly achieved", "Not achieved"):
        assert label in page
    for label in ("Collaboration", "Practitioner knowledge, understanding and confidence", "Practice change"):
        assert label in page


def test_liaison_officer_evaluates_a_report(client, auth, make):
    app = make.application("approved")
    report = report_on(make, app)
    officer = make.liaison()
    auth.login(officer)
    response = client.post(
        f"/liaison/reports/{report.id}",
        data={
            "rating": "partly_achieved",
            "drivers": ["collaboration", "practice_change"],
            "comment": "Good progress.",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "is evaluated" in response.text
    db.session.expire_all()
    evaluation = db.session.get(ImpactReport, report.id).evaluation
    assert evaluation.rating == "partly_achieved"
    assert evaluation.drivers == ["collaboration", "practice_change"]
    assert evaluation.evaluator_id == officer.id
    assert "Partly achieved" in response.text and "Save evaluation" not in response.text


def test_evaluation_needs_a_rating(client, auth, make):
    app = make.application("approved")
    report = report_on(make, app)
    auth.login(make.liaison())
    response = client.post(f"/liaison/reports/{report.id}", data={"drivers": ["collaboration"]})
    assert response.status_code == 422
    assert ERROR_SUMMARY in response.text
    assert "Choose achieved, partly achieved or not achieved" in response.text
    db.session.expire_all()
    assert db.session.get(ImpactReport, report.id).evaluation is None


def test_unknown_improvement_driver_is_refused(client, auth, make):
    app = make.application("approved")
    report = report_on(make, app)
    auth.login(make.liaison())
    response = client.post(f"/liaison/reports/{report.id}", data={"rating": "achieved", "drivers": ["luck"]})
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(ImpactReport, report.id).evaluation is None


def test_liaison_officer_cannot_evaluate_report_from_own_school(client, auth, make):
    school = make.school()
    app = make.application("approved", partner=school)
    report = report_on(make, app)
    auth.login(make.liaison(school=school))
    page = client.get(f"/liaison/reports/{report.id}").text
    assert "You cannot act on this: your school takes part" in page
    assert "Save evaluation" not in page
    response = client.post(f"/liaison/reports/{report.id}", data={"rating": "achieved"})
    assert response.status_code == 403
    assert "own school" in response.text
    db.session.expire_all()
    assert db.session.get(ImpactReport, report.id).evaluation is None


def test_an_evaluated_report_cannot_be_evaluated_again(client, auth, make):
    app = make.application("approved")
    report = report_on(make, app)
    impact.evaluate_report(make.liaison(), report, impact.EvaluationInput(rating="achieved", drivers=[]))
    auth.login(make.liaison())
    page = client.get(f"/liaison/reports/{report.id}").text
    assert "Save evaluation" not in page and "Achieved" in page
    response = client.post(f"/liaison/reports/{report.id}", data={"rating": "not_achieved"})
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(ImpactReport, report.id).evaluation.rating == "achieved"


def test_unknown_report_is_not_found(client, auth, make):
    auth.login(make.liaison())
    assert client.get("/liaison/reports/999").status_code == 404
