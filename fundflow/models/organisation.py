"""Organisations (a council, or a partnership of councils) and the local authorities they
are made of (issue 15)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import TimestampMixin

#: The school-term calendars the termly report knows: England and Wales teach three terms a
#: year, Scotland four.
TERM_CALENDARS = ("three_terms", "four_terms")

#: The UK nations a local authority can be in, by the first letter of its GSS code.
NATIONS_BY_GSS_LETTER = {"E": "england", "W": "wales", "S": "scotland", "N": "northern_ireland"}

organisation_local_authorities = Table(
    "organisation_local_authorities",
    db.metadata,
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
    Column("local_authority_id", ForeignKey("local_authorities.id"), primary_key=True),
)

#: The member councils whose schools may bid into a fund.
fund_local_authorities = Table(
    "fund_local_authorities",
    db.metadata,
    Column("fund_id", ForeignKey("funds.id", ondelete="CASCADE"), primary_key=True),
    Column("local_authority_id", ForeignKey("local_authorities.id"), primary_key=True),
)


class LocalAuthority(db.Model):
    """A council, named by its GSS code (E06…, W06…, S12…, N09…) so 360Giving's
    ``beneficiaryLocation`` can name it."""

    __tablename__ = "local_authorities"

    id: Mapped[int] = mapped_column(primary_key=True)
    gss_code: Mapped[str] = mapped_column(String(9), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    nation: Mapped[str] = mapped_column(String(20), nullable=False)

    def __repr__(self) -> str:
        return f"<LocalAuthority {self.gss_code} {self.name}>"


class Organisation(TimestampMixin, db.Model):
    """A council or a partnership of councils running funds on this service. Its staff see
    only its own records; its audit trail is its own hash chain."""

    __tablename__ = "organisations"
    __table_args__ = (UniqueConstraint("reference_prefix", name="uq_organisations_reference_prefix"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    #: Its 360Giving funder identifier (a partnership's is often its lead council's).
    funder_id: Mapped[str] = mapped_column(String(60), nullable=False)
    #: Starts every bid reference it issues, so references stay unique across organisations.
    reference_prefix: Mapped[str] = mapped_column(String(12), nullable=False)
    term_calendar: Mapped[str] = mapped_column(
        String(20), default="three_terms", server_default="three_terms", nullable=False
    )
    #: The ``prev_hash`` of the first event of its audit chain (all zeros for the first
    #: organisation, whose chain is the trail from before organisations; a new one's is
    #: random, so no chain's events pass for another's).
    audit_genesis: Mapped[str] = mapped_column(String(64), nullable=False)

    local_authorities: Mapped[list[LocalAuthority]] = relationship(
        secondary=organisation_local_authorities, order_by=LocalAuthority.name, lazy="selectin"
    )

    def __repr__(self) -> str:
        return f"<Organisation {self.slug}>"
