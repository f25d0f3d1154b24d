"""Uploaded evidence: checked by its content (not its name) and its size."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import filetype
from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import BackfillClaim, EvidenceFile, ImpactReport, User
from .access import can_see
from .errors import NotFound, Problems, ValidationFailed

ContentT = TypeVar("ContentT")

ALLOWED_TYPES = {"application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG"}


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def _safe_name(filename: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._ -]+", "_", (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1])
    return name.strip()[:200] or "evidence"


def detect_type(data: bytes) -> str | None:
    """The MIME type of ``data`` judged by its magic bytes, if it is one we accept."""
    kind = filetype.guess(data[:8192])
    if kind is None or kind.mime not in ALLOWED_TYPES:
        return None
    return kind.mime


def check_upload(upload: Upload, field: str = "evidence") -> str:
    """Return the detected MIME type or raise ValidationFailed for ``field``."""
    limit = current_app.config["EVIDENCE_MAX_BYTES"]
    if not upload.data:
        raise ValidationFailed({field: ["The selected file is empty"]})
    if len(upload.data) > limit:
        raise ValidationFailed(
            {field: [f"The selected file must be smaller than {limit // (1024 * 1024)} MB"]}
        )
    mime = detect_type(upload.data)
    if mime is None:
        raise ValidationFailed({field: ["The selected file must be a PDF, PNG or JPEG"]})
    return mime


def store(upload: Upload, user: User, field: str = "evidence") -> EvidenceFile:
    """Add the checked file to the session (the caller's transaction commits it)."""
    mime = check_upload(upload, field)
    evidence = EvidenceFile(
        filename=_safe_name(upload.filename),
        content_type=mime,
        size_bytes=len(upload.data),
        sha256=hashlib.sha256(upload.data).hexdigest(),
        uploaded_by_id=user.id,
        data=upload.data,
    )
    db.session.add(evidence)
    return evidence


def store_if_given(upload: Upload | None, user: User, problems: Problems) -> EvidenceFile | None:
    """:func:`store` an optional upload inside a validation: a file that fails its checks
    adds its messages to ``problems`` (and nothing is stored), so they are reported with
    the form's other mistakes."""
    if upload is None:
        return None
    try:
        return store(upload, user)
    except ValidationFailed as exc:
        for name, messages in exc.fields.items():
            for message in messages:
                problems.add(name, message)
        return None


def validate_with_evidence(
    validate: Callable[[Problems], ContentT], upload: Upload | None = None, user: User | None = None
) -> tuple[ContentT, EvidenceFile | None]:
    """What ``validate`` makes of the typed content (it adds what is wrong to the problems
    it is given) and the optional ``upload`` stored for ``user``; then every problem of the
    two is raised together, so the form or API client sees all that is wrong at once (the
    transaction that stored the file rolls back)."""
    problems = Problems()
    content = validate(problems)
    stored = store_if_given(upload, user, problems) if user is not None else None
    problems.raise_if_any()
    return content, stored


def get_evidence(user: User, evidence_id: int) -> EvidenceFile:
    """The file, if ``user`` may see the bid it is evidence for; else NotFound."""
    item = db.session.get(EvidenceFile, evidence_id)
    if item is None:
        raise NotFound("No such file")
    owners = [
        *db.session.execute(select(BackfillClaim).where(BackfillClaim.evidence_id == item.id)).scalars(),
        *db.session.execute(select(ImpactReport).where(ImpactReport.evidence_id == item.id)).scalars(),
    ]
    if not any(can_see(user, owner.application) for owner in owners):
        raise NotFound("No such file")
    return item
