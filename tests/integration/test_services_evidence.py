"""Evidence files are judged by their content, not their name, and limited in size."""

from __future__ import annotations

import pytest

from fundflow.services import claims, evidence
from fundflow.services.errors import NotFound, ValidationFailed
from fundflow.services.evidence import Upload
from tests.factories import last_working_day

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


@pytest.mark.parametrize(
    ("name", "data", "mime"),
    [
        ("cover.pdf", PDF, "application/pdf"),
        ("photo.png", PNG, "image/png"),
        ("scan.jpg", JPEG, "image/jpeg"),
    ],
)
def test_real_pdf_png_and_jpeg_accepted(app, name, data, mime):
    assert evidence.check_upload(Upload(name, data)) == mime


@pytest.mark.parametrize("name", ["timesheet.pdf", "timesheet.png", "timesheet"])
def test_text_file_named_as_pdf_refused(app, name):
    with pytest.raises(ValidationFailed) as failed:
        evidence.check_upload(Upload(name, b"Days released: 2\nSigned: the head\n"))
    assert "PDF, PNG or JPEG" in failed.value.fields["evidence"][0]


def test_pdf_content_named_as_text_is_still_a_pdf(app):
    assert evidence.check_upload(Upload("notes.txt", PDF)) == "application/pdf"


@pytest.mark.parametrize(
    "data", [b"GIF89a" + b"\x00" * 20, b"PK\x03\x04" + b"\x00" * 30, b"MZ" + b"\x00" * 60]
)
def test_other_file_types_refused(app, data):
    with pytest.raises(ValidationFailed):
        evidence.check_upload(Upload("evidence.pdf", data))


def test_empty_file_refused(app):
    with pytest.raises(ValidationFailed) as failed:
        evidence.check_upload(Upload("empty.pdf", b""))
    assert "empty" in failed.value.fields["evidence"][0]


def test_file_over_5_mb_refused_and_5_mb_accepted(app):
    limit = 5 * 1024 * 1024
    assert app.config["EVIDENCE_MAX_BYTES"] == limit
    assert evidence.check_upload(Upload("big.pdf", PDF + b"0" * (limit - len(PDF)))) == "application/pdf"
    with pytest.raises(ValidationFailed) as failed:
        evidence.check_upload(Upload("big.pdf", PDF + b"0" * (limit + 1 - len(PDF))))
    assert "5 MB" in failed.value.fields["evidence"][0]


def test_stored_file_keeps_a_safe_name_its_hash_and_bytes(make):
    bid = make.application("approved")
    user = make.lead_of(bid)
    end = last_working_day()
    claim = claims.create_claim(
        user,
        bid,
        claims.ClaimInput(
            end.isoformat(),
            end.isoformat(),
            "Teacher",
            "1",
            100_00,
            Upload("../../etc/pass wd?.pdf", PDF),
            staff_name="Jo Evans",
        ),
    )
    stored = claim.evidence
    assert stored.filename == "pass wd_.pdf"
    assert stored.size_bytes == len(PDF)
    assert len(stored.sha256) == 64
    assert stored.data == PDF
    assert evidence.get_evidence(user, stored.id) is stored


def test_evidence_is_not_found_for_someone_who_cannot_see_the_bid(make):
    bid = make.application("approved")
    user = make.lead_of(bid)
    end = last_working_day()
    claim = claims.create_claim(
        user,
        bid,
        claims.ClaimInput(
            end.isoformat(), end.isoformat(), "Teacher", "1", 100_00, Upload("a.pdf", PDF), staff_name="Jo Ng"
        ),
    )
    with pytest.raises(NotFound):
        evidence.get_evidence(make.headteacher(), claim.evidence.id)
    with pytest.raises(NotFound):
        evidence.get_evidence(make.user("admin"), claim.evidence.id)
    assert evidence.get_evidence(make.user("auditor"), claim.evidence.id) is claim.evidence
    with pytest.raises(NotFound):
        evidence.get_evidence(user, 99_999)
