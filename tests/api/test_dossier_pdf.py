"""A bid's dossier as a PDF, from the API and from the site: the same tagged PDF/UA document
(marked, with a structure tree, its language and its title), for the three roles that see
every bid; 403 for headteachers and administrators, 404 for an unknown bid."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from fundflow.reports.pdf import html_to_pdf

from ..integration.test_dossier import full_bid


@pytest.fixture
def bid(make):
    return full_bid(make)


def tagged(pdf: bytes) -> PdfReader:
    """The PDF, having checked it is a tagged PDF/UA document with a language and title."""
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"]) is True
    assert "/StructTreeRoot" in root and root["/StructTreeRoot"]["/K"]
    assert root["/Lang"] == "en-GB"
    assert reader.metadata.title
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"]) is True
    assert b'pdfuaid:part="1"' in reader.xmp_metadata.stream.get_data()
    return reader


def text_of(reader: PdfReader) -> str:
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


@pytest.mark.parametrize("role", ["auditor", "liaison_officer", "finance"])
def test_report_roles_download_the_dossier_as_a_tagged_pdf(api, make, bid, role):
    response = api.get(f"/applications/{bid.reference}/dossier.pdf", make.user(role))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{bid.reference}-dossier.pdf"'
    reader = tagged(response.data)
    assert reader.metadata.title == f"Dossier of bid {bid.reference}: {bid.title}"
    text = text_of(reader)
    assert bid.title in text and "PAY-WRONG" in text and "Checked" in text
    assert re.search(r"Page 1 of \d+", text)


def test_the_site_download_is_the_same_document(client, auth, api, make, bid):
    auditor = make.user("auditor")
    auth.login(auditor)
    site = client.get(f"/reports/bids/{bid.reference}/dossier.pdf")
    assert site.status_code == 200 and site.mimetype == "application/pdf"
    assert site.headers["Content-Disposition"] == f'attachment; filename="{bid.reference}-dossier.pdf"'
    from_api = api.get(f"/applications/{bid.reference}/dossier.pdf", auditor)
    # the same pages and words; only the file's creation time and id differ
    assert text_of(tagged(site.data)) == text_of(tagged(from_api.data))


@pytest.mark.parametrize("roles", [("headteacher",), ("admin",)])
def test_others_are_refused(api, make, bid, roles):
    response = api.get(f"/applications/{bid.reference}/dossier.pdf", make.user(*roles))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


def test_an_unknown_bid_is_not_found(api, make):
    response = api.get("/applications/NOPE-0000/dossier.pdf", make.user("auditor"))
    assert response.status_code == 404


def test_making_a_pdf_never_fetches_over_the_network(monkeypatch):
    """Only the app's own static files load; any other address (web or file) is refused."""
    import urllib.request

    def no_network(*args, **kwargs):
        raise AssertionError("a PDF tried to fetch over the network")

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", no_network)
    html = (
        '<html lang="en-GB"><head><title>T</title>'
        '<link rel="stylesheet" href="static/print.css">'
        '<link rel="stylesheet" href="https://example.com/evil.css"></head>'
        '<body><h1>Heading</h1><img src="http://169.254.169.254/latest" alt="x">'
        '<img src="file:///etc/passwd" alt="y"></body></html>'
    )
    reader = tagged(html_to_pdf(html))
    assert "Page 1 of 1" in text_of(reader)  # print.css was loaded: it numbers the pages
