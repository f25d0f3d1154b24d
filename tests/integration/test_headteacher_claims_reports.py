"""Backfill claims with evidence uploads, and impact reports."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from fundflow.extensions import db
from fundflow.models import BackfillClaim, EvidenceFile, ImpactReport
from fundflow.services import impact
from fundflow.services.clock import today

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64


@pytest.fixture
def head(make):
    return make.headteacher()


@pytest.fixture
def approved(make, head):
    return make.application("approved", lead=head)


def _date(value) -> list[str]:
    return [str(value.day), str(value.month), str(value.year)]


def _claim_form(evidence=None, **overrides) -> dict:
    end = today() - timedelta(days=2)
    data = {
        "period_start": _date(end - timedelta(days=6)),
        "period_end": _date(end),
        "staff_name": "Amina Khan",
        "staff_released": "Deputy headteacher",
        "days": "2",
        "amount": "450.50",
    }
    if evidence is not None:
        data["evidence"] = evidence
    data.update(overrides)
    return data


def _claims() -> int:
    db.session.expire_all()
    return db.session.query(BackfillClaim).count()


# ----------------------------------------------------------------------- claims list


def test_claims_list_shows_status_and_amount_paid(client, auth, make, head, approved):
    make.claim(approved, head, state="paid", amount_pence=250_00)
    make.claim(approved, head, state="pending", amount_pence=100_00)
    auth.login(head)
    page = client.get(f"/headteacher/bids/{approved.reference}/claims").get_data(as_text=True)
    assert "Backfill claims" in page
    assert ">Paid</strong>" in page
    assert "Waiting for verification" in page
    assert "£250.00" in page and "£100.00" in page
    assert "Make a new claim" in page


# ------------------------------------------------------------------------ new claim


def test_new_claim_form_is_a_multipart_form_with_date_inputs(client, auth, head, approved):
    auth.login(head)
    page = client.get(f"/headteacher/bids/{approved.reference}/claims/new").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    assert 'name="period_start"' in page and "govuk-date-input" in page
    assert 'type="file"' in page


def test_claim_with_pdf_evidence_is_created_in_pence(client, auth, head, approved):
    auth.login(head)
    response = client.post(
        f"/headteacher/bids/{approved.reference}/claims/new",
        data=_claim_form(evidence=(io.BytesIO(PDF), "invoice.pdf")),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    claim = db.session.query(BackfillClaim).one()
    assert (claim.amount_pence, claim.status, claim.staff_released) == (
        45050,
        "pending",
        "Deputy headteacher",
    )
    assert claim.evidence.content_type == "application/pdf"
    assert claim.evidence.filename == "invoice.pdf"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Claim for £450.50 sent" in page
    assert "invoice.pdf" in page


def test_claim_with_png_evidence_is_accepted(client, auth, head, approved):
    auth.login(head)
    response = client.post(
        f"/headteacher/bids/{approved.reference}/claims/new",
        data=_claim_form(evidence=(io.BytesIO(PNG), "timesheet.png")),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert db.session.query(BackfillClaim).one().evidence.content_type == "image/png"


def test_claim_without_evidence_file_is_refused(client, auth, head, approved):
    auth.login(head)
    response = client.post(
        f"/headteacher/bids/{approved.reference}/claims/new",
        data=_claim_form(),
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Select the evidence file" in page
    assert 'href="#evidence"' in page
    assert _claims() == 0


def test_text_file_named_pdf_is_refused(client, auth, head, approved):
    auth.login(head)
    response = client.post(
        f"/headteacher/bids/{approved.reference}/claims/new",
        data=_claim_form(evidence=(io.BytesIO(b"just some text, honest\n" * 20), "invoice.pdf")),
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "must be a PDF, PNG or JPEG" in response.get_data(as_text=True)
    assert _claims() == 0
    assert db.session.query(EvidenceFile).count() == 0


def test_upload_over_5_mb_is_refused(client, auth, head, approved):
    too_big = PDF + b"0" * (5 * 1024 * 1024)
    auth.login(head)
    response = client.post(
        f"/headteacher/bids/{approved.reference}/claims/new",
        data=_claim_form(evidence=(io.BytesIO(too_big), "big.pdf")),
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "must be smaller than 5 MB" in response.get_data(as_text=True)
    assert _claims() == 0


def test_upload_far_over_the_evidence_limit_is_refused_on_the_form_without_an_error_page(
    client, auth, head, approved
):
    huge = PDF + b"0" * (7 * 1024 * 1024)
    url = f"/headteacher/bids/{approved.reference}/claims/new"
    auth.login(head)
    response = client.post(
        url, data=_claim_form(evidence=(io.BytesIO(huge), "huge.pdf")), content_type="multipart/form-data"
    )
    assert response.status_code == 422
    assert "must be smaller than 5 MB" in response.get_data(as_text=True)
    assert _claims() == 0


@pytest.mark.parametrize(
    ("overrides", "message", "anchor"),
    [
        ({"amount": "lots"}, "Enter an amount in pounds", "amount"),
        ({"amount": ""}, "Enter the amount claimed in pounds", "amount"),
        ({"period_start": ["", "", ""]}, "Enter the first day of release", "period_start"),
        ({"period_end": ["31", "2", "2025"]}, "Enter a real date", "period_end"),
    ],
)
def test_claim_with_unreadable_input_shows_errors_and_creates_nothing(
    client, auth, head, approved, overrides, message, anchor
):
    auth.login(head)
    response = client.post(
        f"/headteacher/bids/{approved.reference}/claims/new",
        data=_claim_form(evidence=(io.BytesIO(PDF), "invoice.pdf"), **overrides),
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert f'href="#{anchor}"' in page
    assert _claims() == 0


def test_claim_refused_by_the_service_shows_its_reasons(client, auth, head, approved):
    future = today() + timedelta(days=5)
    auth.login(head)
    response = client.post(
        f"/headteacher/bids/{approved.reference}/claims/new",
        data=_claim_form(
            evidence=(io.BytesIO(PDF), "invoice.pdf"),
            period_end=_date(future),
            amount="99999",
        ),
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "You can only claim for days that have happened" in page
    assert 'href="#amount"' in page
    assert _claims() == 0


def test_partner_cannot_claim_backfill(client, auth, make, head):
    application = make.application("approved", partner=head.school)
    auth.login(head)
    url = f"/headteacher/bids/{application.reference}/claims/new"
    assert client.get(url).status_code == 302
    response = client.post(
        url, data=_claim_form(evidence=(io.BytesIO(PDF), "invoice.pdf")), content_type="multipart/form-data"
    )
    assert response.status_code == 403
    assert "Only the lead school" in response.get_data(as_text=True)
    assert _claims() == 0


def test_claims_are_not_taken_before_approval(client, auth, make, head):
    application = make.application("submitted", lead=head)
    auth.login(head)
    url = f"/headteacher/bids/{application.reference}/claims/new"
    assert client.get(url).status_code == 302
    response = client.post(
        url, data=_claim_form(evidence=(io.BytesIO(PDF), "invoice.pdf")), content_type="multipart/form-data"
    )
    assert response.status_code == 409
    assert _claims() == 0


def test_another_schools_claim_form_is_not_found(client, auth, make, head):
    application = make.application("approved")
    auth.login(head)
    assert client.get(f"/headteacher/bids/{application.reference}/claims/new").status_code == 404


# --------------------------------------------------------------------- impact reports


def test_report_form_has_a_row_per_measure(client, auth, head, approved):
    auth.login(head)
    page = client.get(f"/headteacher/bids/{approved.reference}/reports/new").get_data(as_text=True)
    assert "Phonics pass rate (%)" in page
    assert 'name="results-0-actual"' in page
    assert 'enctype="multipart/form-data"' in page


def test_interim_report_is_sent(client, auth, head, approved):
    auth.login(head)
    response = client.post(
        f"/headteacher/bids/{approved.reference}/reports/new",
        data={"kind": "interim", "results-0-actual": "66.5", "narrative": "Going well."},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    report = db.session.query(ImpactReport).one()
    assert (report.kind, report.narrative, str(report.results[0].actual.normalize())) == (
        "interim",
        "Going well.",
        "66.5",
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Interim impact report sent" in page
    assert "Waiting for the liaison officer" in page


def test_report_with_evidence_keeps_the_file(client, auth, head, approved):
    auth.login(head)
    response = client.post(
        f"/headteacher/bids/{approved.reference}/reports/new",
        data={
            "kind": "final",
            "results-0-actual": "80",
            "narrative": "Done.",
            "evidence": (io.BytesIO(PDF), "results.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert db.session.query(ImpactReport).one().evidence.filename == "results.pdf"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert '<a class="govuk-link" href="/evidence/' in page


def test_final_report_without_results_is_refused(client, auth, head, approved):
    auth.login(head)
    response = client.post(
        f"/headteacher/bids/{approved.reference}/reports/new",
        data={"kind": "final", "results-0-actual": "", "narrative": "Done."},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    assert "Give a result for at least one measure" in page
    assert db.session.query(ImpactReport).count() == 0


def test_report_with_text_result_and_no_kind_shows_errors(client, auth, head, approved):
    auth.login(head)
    response = client.post(
        f"/headteacher/bids/{approved.reference}/reports/new",
        data={"results-0-actual": "lots", "narrative": ""},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Choose interim or final" in page
    assert 'href="#results-0-actual"' in page
    assert "Describe what happened" in page
    assert db.session.query(ImpactReport).count() == 0


def test_report_evidence_named_pdf_but_text_is_refused(client, auth, head, approved):
    auth.login(head)
    response = client.post(
        f"/headteacher/bids/{approved.reference}/reports/new",
        data={
            "kind": "interim",
            "results-0-actual": "70",
            "narrative": "Fine.",
            "evidence": (io.BytesIO(b"not a pdf at all"), "results.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "must be a PDF, PNG or JPEG" in response.get_data(as_text=True)
    assert db.session.query(ImpactReport).count() == 0


def test_reports_list_shows_the_evaluation(client, auth, make, head):
    application = make.application("monitoring", lead=head)
    report = impact.submit_report(
        head,
        application,
        impact.ReportInput(
            kind="final",
            narrative="It worked.",
            results=[impact.ResultInput(measure_id=m.id, actual="74") for m in application.measures],
        ),
    )
    impact.evaluate_report(
        make.liaison(),
        report,
        impact.EvaluationInput(
            rating="partly_achieved", drivers=["practice_change"], comment="Nearly there."
        ),
    )
    auth.login(head)
    page = client.get(f"/headteacher/bids/{application.reference}/reports").get_data(as_text=True)
    assert "Partly achieved" in page
    assert "Practice change" in page
    assert "Nearly there." in page
    assert "Report impact" in page


def test_partner_cannot_report_impact(client, auth, make, head):
    application = make.application("approved", partner=head.school)
    auth.login(head)
    url = f"/headteacher/bids/{application.reference}/reports/new"
    assert client.get(url).status_code == 302
    response = client.post(
        url,
        data={"kind": "interim", "results-0-actual": "70", "narrative": "x"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert db.session.query(ImpactReport).count() == 0


def test_claims_list_paginates(client, auth, make, head, approved):
    for _ in range(21):
        make.claim(approved, head, amount_pence=50_00)
    auth.login(head)
    url = f"/headteacher/bids/{approved.reference}/claims"
    first = client.get(url).get_data(as_text=True)
    assert f'href="{url}?page=2"' in first
    assert client.get(url + "?page=2").get_data(as_text=True).count("Waiting for verification") == 1
