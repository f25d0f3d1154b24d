"""Uploads are capped, but the GIAS school import takes files far larger than evidence."""

import io
import re

from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from fundflow.models import BackfillClaim, School


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


def test_evidence_over_the_limit_is_read_and_refused_on_its_field_with_the_other_answers_kept(
    app, client, auth, make
):
    """The server reads the whole form (a refusal before reading makes browsers show "This
    site can't be reached") and says what is wrong on the file field."""
    app_ = make.application("approved")
    auth.login(make.lead_of(app_))
    big = b"%PDF-1.4\n" + b"0" * (6 * 1024 * 1024)
    assert len(big) > app.config["MAX_CONTENT_LENGTH"]
    response = client.post(
        f"/headteacher/bids/{app_.reference}/claims/new",
        data={"evidence": (io.BytesIO(big), "big.pdf"), "days": "2.5"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = response.text
    assert 'href="#evidence"' in page
    assert re.search(
        r'id="evidence-error"[^>]*>\s*<span[^>]*>Error:</span> The selected file must be smaller', page
    )
    assert 'value="2.5"' in page  # the rest of the form came through
    assert BackfillClaim.query.count() == 0


def test_a_request_over_the_upload_ceiling_is_refused_unread_and_saves_nothing(app, client, auth, make):
    app.config["UPLOAD_REQUEST_MAX_BYTES"] = 1024 * 1024
    app_ = make.application("approved")
    auth.login(make.lead_of(app_))
    url = f"/headteacher/bids/{app_.reference}/claims/new"
    response = client.post(
        url,
        data={"evidence": (io.BytesIO(b"%PDF-1.4\n" + b"0" * (2 * 1024 * 1024)), "big.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    assert BackfillClaim.query.count() == 0


class CountingStream(io.BytesIO):
    """A request body that records how much of it the server read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk

    def readline(self, size: int | None = -1) -> bytes:
        line = super().readline(size)
        self.bytes_read += len(line)
        return line


def _post_unread(client, url: str, megabytes: int) -> tuple[int, CountingStream]:
    """POST a multipart form with a ``megabytes`` MB file; the status and the body stream."""
    boundary, body = encode_multipart(
        MultiDict({"evidence": FileStorage(io.BytesIO(b"0" * (megabytes * 1024 * 1024)), "big.pdf")})
    )
    stream = CountingStream(body)
    response = client.post(
        url,
        input_stream=stream,
        content_length=len(body),
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    return response.status_code, stream


def test_a_10_mb_form_to_sign_in_is_refused_unread_with_413(app, client):
    status, stream = _post_unread(client, "/sign-in", 10)
    assert status == 413
    assert stream.bytes_read == 0


def test_a_10_mb_form_to_an_admin_page_is_refused_unread(app, client, auth, make):
    """Only the evidence forms read more than MAX_CONTENT_LENGTH, even for someone signed in."""
    auth.login(make.user("admin"))
    status, stream = _post_unread(client, "/admin/users/new", 10)
    assert status == 302  # refused as too large: the admin pages say so in a message on the page
    assert stream.bytes_read == 0
    assert School.query.count() == 0


def test_a_large_evidence_form_from_someone_not_signed_in_is_refused_unread(app, client, make):
    app_ = make.application("approved")
    status, stream = _post_unread(client, f"/headteacher/bids/{app_.reference}/claims/new", 10)
    assert status == 302  # refused as too large, with a message on the form
    assert stream.bytes_read == 0
    assert BackfillClaim.query.count() == 0
