from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import TimestampMixin

#: GIAS's "EstablishmentStatus (name)" values, as stored, and how each reads.
STATUS_LABELS = {
    "open": "Open",
    "proposed_to_close": "Open, but proposed to close",
    "proposed_to_open": "Proposed to open",
    "closed": "Closed",
}
STATUSES = tuple(STATUS_LABELS)

#: The UK nation whose published list names the school, and how each reads.
NATION_LABELS = {
    "england": "England",
    "wales": "Wales",
    "scotland": "Scotland",
    "northern_ireland": "Northern Ireland",
}
NATIONS = tuple(NATION_LABELS)
#: What each nation calls its school identifier, in a sentence, a label or an error message.
IDENTIFIER_NAMES = {
    "england": "URN",
    "wales": "school number",
    "scotland": "SEED code",
    "northern_ireland": "DE reference number",
}
#: The 360Giving org-id prefix of each nation's schools register.
GIVING360_PREFIXES = {
    "england": "GB-EDU-",
    "wales": "GB-WALEDU-",
    "scotland": "GB-SCOTEDU-",
    "northern_ireland": "GB-NIEDU-",
}


def _urn_as_identifier(context: Any) -> str | None:
    return context.get_current_parameters().get("urn")


def identifier_label(nation: str | None, identifier: str | None, *, start: bool = False) -> str:
    """The identifier named as its nation names it: "URN 137101", "SEED code 8412345",
    "school number 6812345" (``start``: "School number 6812345", to begin a sentence)."""
    name = IDENTIFIER_NAMES.get(nation or "england", "identifier")
    if start:
        name = name[:1].upper() + name[1:]
    return f"{name} {identifier or ''}".strip()


def giving360_id(nation: str, identifier: str) -> str:
    """A school's org-id in the 360Giving register from its nation and identifier (for queries
    that select columns rather than School objects)."""
    return f"{GIVING360_PREFIXES[nation]}{identifier}"


class School(TimestampMixin, db.Model):
    """An establishment, identified by its nation and that nation's official identifier: the
    URN in England (GIAS), the school number in Wales, the SEED code in Scotland, the DE
    reference number in Northern Ireland. Welsh school numbers and SEED codes are both seven
    digits, so only the pair is unique. English schools keep ``urn`` (equal to ``identifier``)
    for the URLs and API fields that name them by URN.

    Schools are never deleted: a closed school keeps its row (and so its name on every bid
    it took part in) with ``status`` "closed", and cannot be named on a new bid."""

    __tablename__ = "schools"
    __table_args__ = (
        CheckConstraint(
            "status IN ('open', 'proposed_to_close', 'proposed_to_open', 'closed')", name="status"
        ),
        CheckConstraint("nation IN ('england', 'wales', 'scotland', 'northern_ireland')", name="nation"),
        UniqueConstraint("nation", "identifier"),
        Index("ix_schools_name_id", "name", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nation: Mapped[str] = mapped_column(
        String(20), default="england", server_default="england", nullable=False
    )
    #: The official identifier, normalised (see services/school_identifiers.py); an English
    #: school inserted with its URN alone (bulk inserts too) takes the URN.
    identifier: Mapped[str] = mapped_column(String(12), default=_urn_as_identifier, nullable=False)
    #: English schools only (the same as ``identifier``); blank for the other nations.
    urn: Mapped[str | None] = mapped_column(String(6), unique=True, nullable=True)
    #: The local authority's GSS code (E06…, W06…, S12…), "" when not known.
    gss_code: Mapped[str] = mapped_column(String(9), default="", server_default="", nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    phase: Mapped[str] = mapped_column(String(60), default="", nullable=False)
    la_code: Mapped[str] = mapped_column(String(10), default="", nullable=False)
    la_name: Mapped[str] = mapped_column(String(120), default="", nullable=False)
    trust: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    establishment_type: Mapped[str] = mapped_column(String(120), default="", nullable=False)
    postcode: Mapped[str] = mapped_column(String(12), default="", nullable=False)
    causing_concern: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    status: Mapped[str] = mapped_column(String(20), default="open", server_default="open", nullable=False)
    #: GIAS's ``NumberOfPupils`` and ``PercentageFSM`` (pupils eligible for free school meals),
    #: blank until an import gives them.
    pupils: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fsm_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 1), nullable=True)

    def __init__(self, **kwargs: Any) -> None:
        # An English school is named by its URN alone in much of the code and the tests
        # (School(urn=...)); its identifier is the URN, and the other way round.
        nation = kwargs.setdefault("nation", "england")
        if nation == "england":
            if kwargs.get("identifier") is None and kwargs.get("urn"):
                kwargs["identifier"] = kwargs["urn"]
            elif kwargs.get("urn") is None and kwargs.get("identifier"):
                kwargs["urn"] = kwargs["identifier"]
        super().__init__(**kwargs)

    @property
    def is_closed(self) -> bool:
        return self.status == "closed"

    @property
    def nation_label(self) -> str:
        return NATION_LABELS.get(self.nation, self.nation)

    @property
    def identifier_label(self) -> str:
        """The identifier as a sentence names it: "URN 137101", "SEED code 8412345"."""
        return identifier_label(self.nation, self.identifier)

    @property
    def giving360_id(self) -> str:
        """The school's org-id in the 360Giving register, e.g. GB-EDU-110123, GB-SCOTEDU-8300011."""
        return giving360_id(self.nation or "england", self.identifier)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    def __repr__(self) -> str:
        return f"<School {self.nation} {self.identifier} {self.name}>"
