"""An award's monitoring schedule: the reports and claim deadlines it owes, with dates."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..workflow import SCHEDULE_LIFECYCLE
from .application import Activity, Application
from .base import TimestampMixin

SCHEDULE_KINDS = ("interim_report", "final_report", "claim_deadline")
SCHEDULE_KIND_LABELS = {
    "interim_report": "Interim impact report",
    "final_report": "Final impact report",
    "claim_deadline": "Last day to claim backfill",
}


class ScheduleItem(TimestampMixin, db.Model):
    """One thing an award owes by a date: an interim or final impact report, or the last
    day to claim backfill for an activity. Its status moves only through the workflow's
    ``SCHEDULE_LIFECYCLE`` (due → late, submitted or waived)."""

    __tablename__ = "schedule_items"
    __table_args__ = (
        Index("ix_schedule_items_status_due_on", "status", "due_on"),
        Index("ix_schedule_items_next_reminder_on", "next_reminder_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id"), nullable=True)
    due_on: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(20), default=SCHEDULE_LIFECYCLE.initial, nullable=False)
    #: The day it was met (report sent, delivery finished) or waived.
    completed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("impact_reports.id"), nullable=True)
    waived_reason: Mapped[str] = mapped_column(Text, default="", server_default="", nullable=False)
    #: When ``run-schedule`` next has a reminder to send for it (None: none left).
    next_reminder_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    #: When the liaison officers were told it is more than 14 days late.
    escalated_on: Mapped[date | None] = mapped_column(Date, nullable=True)

    application: Mapped[Application] = relationship(lazy="joined")
    activity: Mapped[Activity | None] = relationship()

    @property
    def kind_label(self) -> str:
        return SCHEDULE_KIND_LABELS[self.kind]

    def __repr__(self) -> str:
        return f"<ScheduleItem {self.id} {self.kind} {self.due_on} {self.status}>"
