"""Uploads are capped, but the GIAS school import takes files far larger than evidence."""

import io

from fundflow.models import School


def _csv(rows: int) -> bytes:
    lines = ["URN,EstablishmentName,LA (code),Padding"]
    lines += [f"{300000 + i},School number {i},871,{'x' * 2000}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode("cp1252")


def test_admin_can_import_a_gias_file_larger_than_the_evidence_limit(app, client, auth, make):
    admin = make.user("admin")
    auth.login(admin)
    data = _csv(3_000)
    assert len(data) > app.config["MAX_CONTENT_LENGTH"]
    response = client.post(
        "/admin/schools/import",
        data={"file": (io.BytesIO(data), "edubasealldata.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert School.query.count() == 3_000


def test_evidence_upload_over_the_request_limit_is_refused_without_an_error_page(app, client, auth, make):
    app_ = make.application("approved")
    auth.login(make.lead_of(app_))
    big = b"%PDF-1.4\n" + b"0" * (app.config["MAX_CONTENT_LENGTH"] + 10)
    response = client.post(
        f"/headteacher/bids/{app_.reference}/claims/new",
        data={"evidence": (io.BytesIO(big), "big.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code in (302, 413, 422)
    assert b"Traceback" not in response.data
