from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import TimestampMixin
from .organisation import LocalAuthority, Organisation, fund_local_authorities


class Fund(TimestampMixin, db.Model):
    """A pot of money with its rules. Its ledger (committed, paid, available) is derived."""

    __tablename__ = "funds"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The council or partnership running the fund: only its staff see the fund and its bids.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    financial_year: Mapped[str] = mapped_column(String(9), nullable=False)
    budget_pence: Mapped[int] = mapped_column(BigInteger, nullable=False)
    opens_on: Mapped[date] = mapped_column(Date, nullable=False)
    closes_on: Mapped[date] = mapped_column(Date, nullable=False)
    #: The last day of the delivery period: backfill can be claimed for days up to it.
    delivery_ends_on: Mapped[date] = mapped_column(Date, nullable=False)
    max_award_pence: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    max_daily_rate_pence: Mapped[int] = mapped_column(BigInteger, nullable=False)
    countersign_threshold_pence: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    requires_partner_endorsement: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    #: When awards send interim impact reports: "termly", "half_termly", or "set_by_officer"
    #: (the liaison officer gives the dates when approving).
    report_cadence: Mapped[str] = mapped_column(
        String(20), default="termly", server_default="termly", nullable=False
    )
    #: The final report is due this many weeks after the bid's last measure falls due.
    final_report_weeks: Mapped[int] = mapped_column(Integer, default=6, server_default="6", nullable=False)
    #: Backfill is claimed within this many weeks of each activity's planned end.
    claim_deadline_weeks: Mapped[int] = mapped_column(Integer, default=4, server_default="4", nullable=False)

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    #: The member councils whose schools may bid (a partnership fund: any of them).
    local_authorities: Mapped[list[LocalAuthority]] = relationship(
        secondary=fund_local_authorities, order_by=LocalAuthority.name, lazy="selectin"
    )

    def is_open_on(self, day: date) -> bool:
        return self.opens_on <= day <= self.closes_on

    def __repr__(self) -> str:
        return f"<Fund {self.id} {self.name}>"
