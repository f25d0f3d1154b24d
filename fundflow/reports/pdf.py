"""HTML to a tagged PDF (PDF/UA-1) with WeasyPrint: the dossier, the termly report and any
other page the service prints.

The HTML must name its language (``<html lang>``) and carry a ``<title>``: PDF/UA needs both,
and screen readers announce them. Stylesheets and images come only from the app's own
static files (:class:`StaticOnlyFetcher`): making a PDF never reaches the network, so a
link in a bid's text cannot make the server fetch anything.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

#: The app's own static files, the only files a PDF may load.
STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
#: The URL path the site serves them under (``/assets/app.css``), as templates link them.
STATIC_PATHS = ("/assets/", "/static/")
#: The media type of every PDF the service answers with.
PDF = "application/pdf"
#: The base URL documents are rendered against when the caller has none.
DEFAULT_BASE_URL = "https://fundflow.invalid/"


class StaticOnlyFetcher(URLFetcher):
    """Serves ``…/assets/<name>`` and ``…/static/<name>`` from :data:`STATIC_DIR` (whatever
    the host) and refuses everything else: no HTTP, no other files on the server."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=())

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        path = unquote(urlsplit(url).path)
        for prefix in STATIC_PATHS:
            if prefix in path:
                name = path.rsplit(prefix, 1)[1]
                file = (STATIC_DIR / name).resolve()
                if file.is_file() and file.is_relative_to(STATIC_DIR):
                    mime_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, file.read_bytes(), {"Content-Type": mime_type})
        raise ValueError(f"only the app's own static files can be loaded into a PDF, not {url}")


def html_to_pdf(html: str, *, base_url: str | None = None) -> bytes:
    """A tagged PDF/UA-1 document of ``html`` (title and language from the HTML), laid out
    by its print stylesheets (``fundflow/static/print.css``)."""
    document = HTML(string=html, base_url=base_url or DEFAULT_BASE_URL, url_fetcher=StaticOnlyFetcher())
    return document.write_pdf(pdf_variant="pdf/ua-1")
