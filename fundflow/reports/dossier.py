"""Each bid's dossier: its whole record for an auditor, as one page and as a tagged PDF.

The record is the one the auditor's bid page reads (:func:`application_record`); the dossier
adds each of the bid's audit events checked against its neighbour in the chain (its hash
recomputed, its ``prev_hash`` the hash of the event one before it in the whole chain) and
the last full verification of the chain. Everything is read in a fixed number of queries,
however many events, claims or payments the bid has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import render_template
from sqlalchemy import select
from sqlalchemy.orm import aliased, selectinload

from .. import formatting
from ..extensions import db
from ..models import Application, AuditVerification, Event, EvidenceFile
from ..services.audit import chain_genesis, event_hash
from ..services.queries.auditor import ApplicationRecord, application_record
from .pdf import html_to_pdf

#: The lifecycle whose words name an event's statuses, by the kind of record it is about.
STATUS_KINDS = {"claim": "claim", "schedule_item": "schedule", "impact_report": "report"}

#: The parts of a bid a new version can change, in words (``version_changes`` names them
#: by their snapshot keys).
VERSION_PARTS = {
    "title": "title",
    "need": "identified need",
    "priority_areas": "priority areas",
    "requested_pence": "amount requested",
    "activities": "activities",
    "measures": "measures of impact",
    "partners": "partner schools",
    "lead_school_id": "lead school",
    "interim_report_dates": "interim report dates",
}


def version_part(key: str) -> str:
    return VERSION_PARTS.get(key, key.removesuffix("_pence").replace("_", " "))


@dataclass(frozen=True)
class CheckedEvent:
    """One audit event and what checking it against the chain found."""

    event: Event
    #: Its stored hash is the hash of its content and ``prev_hash`` recomputed now.
    hash_ok: bool
    #: Its ``prev_hash`` is the hash of the event before it in the chain (the genesis hash
    #: for the first); False too when that event is missing.
    follows_ok: bool

    @property
    def status_kind(self) -> str:
        """Which lifecycle names the event's statuses (for ``formatting.status_text``)."""
        return STATUS_KINDS.get(self.event.subject_type, "application")

    @property
    def ok(self) -> bool:
        return self.hash_ok and self.follows_ok

    @property
    def problem(self) -> str:
        """What is wrong, in words ("" when the check passed)."""
        problems = []
        if not self.hash_ok:
            problems.append("its content no longer matches its hash")
        if not self.follows_ok:
            problems.append("it does not follow the event before it in the chain")
        return " and ".join(problems)


@dataclass(frozen=True)
class Dossier:
    record: ApplicationRecord
    events: list[CheckedEvent]
    #: The latest full check of the whole chain; None when it was never checked.
    last_verification: AuditVerification | None
    #: Evidence file names by id (the files' contents are never read here).
    evidence_names: dict[int, str]
    #: Payment references by disbursement id, so a reversal names the payment it reverses.
    payment_references: dict[int, str]

    @property
    def application(self) -> Application:
        return self.record.application

    @property
    def failed_events(self) -> int:
        return sum(1 for e in self.events if not e.ok)


def checked_events(application_id: int) -> list[CheckedEvent]:
    """The bid's events in chain order, each with the hash of the event one before it in the
    whole chain (its organisation's), read in the same query (a self-join on ``seq``), and
    checked."""
    before = aliased(Event)
    rows = db.session.execute(
        select(Event, before.hash)
        .outerjoin(before, (before.organisation_id == Event.organisation_id) & (before.seq == Event.seq - 1))
        .where(Event.application_id == application_id)
        .order_by(Event.seq)
    ).all()
    checked = []
    for event, previous_hash in rows:
        expected_prev = chain_genesis(event.organisation_id) if event.seq == 1 else previous_hash
        checked.append(
            CheckedEvent(
                event=event,
                hash_ok=event_hash(event) == event.hash,
                follows_ok=expected_prev is not None and event.prev_hash == expected_prev,
            )
        )
    return checked


def last_verification(organisation_id: int | None) -> AuditVerification | None:
    """The latest recorded full check of the organisation's chain (``verify_and_record``):
    its own, never the count of the whole deployment's or another organisation's."""
    return db.session.execute(
        select(AuditVerification)
        .where(AuditVerification.organisation_id == organisation_id)
        .order_by(AuditVerification.at.desc(), AuditVerification.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def _evidence_names(record: ApplicationRecord) -> dict[int, str]:
    """File names of the evidence behind the bid's claims and reports, in one query (the
    claims' files are already loaded; the reports' are not)."""
    names = {cv.claim.evidence.id: cv.claim.evidence.filename for cv in record.claims if cv.claim.evidence}
    missing = {r.evidence_id for r in record.reports if r.evidence_id is not None} - names.keys()
    if missing:
        rows = db.session.execute(
            select(EvidenceFile.id, EvidenceFile.filename).where(EvidenceFile.id.in_(missing))
        )
        names.update(dict(rows.tuples().all()))
    return names


def dossier(application: Application) -> Dossier:
    """Everything about ``application`` the dossier shows (the caller has checked that the
    person may see the bid)."""
    bid = db.session.execute(
        select(Application)
        .where(Application.id == application.id)
        .options(
            selectinload(Application.created_by),
            selectinload(Application.decided_by),
            selectinload(Application.countersigned_by),
            selectinload(Application.partners),
            selectinload(Application.activities),
            selectinload(Application.measures),
        )
        .execution_options(populate_existing=True)
    ).scalar_one()
    record = application_record(bid)
    references = {d.id: d.reference for cv in record.claims for d in cv.disbursements}
    return Dossier(
        record=record,
        events=checked_events(bid.id),
        last_verification=last_verification(bid.fund.organisation_id),
        evidence_names=_evidence_names(record),
        payment_references=references,
    )


def dossier_context(application: Application) -> dict[str, Any]:
    """What the dossier's templates (page and PDF) are rendered with."""
    found = dossier(application)
    return {
        "dossier": found,
        "record": found.record,
        "application": found.application,
        "version_part": version_part,
        "status_text": formatting.status_text,
        "event_sentences": formatting.event_sentences,
    }


def dossier_pdf(application: Application) -> bytes:
    """The dossier as a tagged PDF: the site's download and the API's answer both come from
    here, so they are the same document."""
    html = render_template("oversight/dossier_pdf.html", **dossier_context(application))
    return html_to_pdf(html)


def dossier_filename(application: Application) -> str:
    return f"{application.reference}-dossier.pdf"
