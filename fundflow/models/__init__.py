"""SQLAlchemy models, one module per aggregate."""

from .application import (
    PARTNER_ROLES,
    Activity,
    Application,
    ApplicationPartner,
    ApplicationVersion,
    Measure,
)
from .base import utcnow
from .claim import BackfillClaim, Disbursement
from .event import AuditVerification, Event
from .evidence import EvidenceFile
from .figures import BidFigures
from .fund import Fund
from .idempotency import IdempotencyKey
from .impact import (
    DRIVER_LABELS,
    DRIVERS,
    RATING_LABELS,
    RATINGS,
    REPORT_KINDS,
    ImpactEvaluation,
    ImpactReport,
    ImpactResult,
)
from .notification import DELIVERY_CHOICES, Notification, OutboundEmail, PasswordResetRequest
from .organisation import (
    NATIONS_BY_GSS_LETTER,
    TERM_CALENDARS,
    LocalAuthority,
    Organisation,
    fund_local_authorities,
    organisation_local_authorities,
)
from .review import RECOMMENDATIONS, Review
from .schedule import SCHEDULE_KIND_LABELS, SCHEDULE_KINDS, ScheduleItem
from .school import School
from .user import (
    ROLE_LABELS,
    ROLES,
    ROLES_WITHOUT_ORGANISATION,
    ApiToken,
    LoginAttempt,
    SetPasswordLink,
    User,
    UserRole,
    UserSession,
)

__all__ = [
    "BidFigures",
    "DELIVERY_CHOICES",
    "SCHEDULE_KINDS",
    "SCHEDULE_KIND_LABELS",
    "Notification",
    "OutboundEmail",
    "PasswordResetRequest",
    "ScheduleItem",
    "DRIVERS",
    "DRIVER_LABELS",
    "PARTNER_ROLES",
    "RATINGS",
    "RATING_LABELS",
    "RECOMMENDATIONS",
    "REPORT_KINDS",
    "ROLES",
    "ROLES_WITHOUT_ORGANISATION",
    "NATIONS_BY_GSS_LETTER",
    "TERM_CALENDARS",
    "LocalAuthority",
    "Organisation",
    "fund_local_authorities",
    "organisation_local_authorities",
    "ROLE_LABELS",
    "Activity",
    "ApiToken",
    "Application",
    "ApplicationPartner",
    "ApplicationVersion",
    "AuditVerification",
    "BackfillClaim",
    "Disbursement",
    "Event",
    "EvidenceFile",
    "Fund",
    "IdempotencyKey",
    "ImpactEvaluation",
    "ImpactReport",
    "ImpactResult",
    "LoginAttempt",
    "Measure",
    "Review",
    "School",
    "SetPasswordLink",
    "User",
    "UserRole",
    "UserSession",
    "utcnow",
]
