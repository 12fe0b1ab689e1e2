"""The security audit log: who signed in or failed to, who was throttled, what changed about
an account (password, address, sign-in methods) and about an organisation's people
(invitations, roles, departures).

An event is written in the transaction of the change it records (:func:`record`), so one is
never kept without the other; a failure, whose request changes nothing, is written in a
transaction of its own (:func:`record_now`). An organisation's owners read its events and the
account events of its current members (``GET /orgs/{org_id}/audit``).
"""

from __future__ import annotations

import logging

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from autoclip_api.context import ApiContext
from autoclip_core.db.models import AuditEvent, Membership, utcnow

logger = logging.getLogger("autoclip_api.audit")

Detail = str | int | bool | None


def record(
    session: Session,
    event: str,
    *,
    user_id: str | None = None,
    actor_id: str | None = None,
    org_id: str | None = None,
    client_ip: str | None = None,
    **details: Detail,
) -> None:
    """Adds the event to the caller's transaction."""
    session.add(
        AuditEvent(
            at=utcnow(),
            event=event,
            user_id=user_id,
            actor_id=actor_id,
            org_id=org_id,
            client_ip=client_ip,
            details={k: v for k, v in details.items() if v is not None},
        )
    )


def record_now(
    api: ApiContext,
    event: str,
    *,
    user_id: str | None = None,
    client_ip: str | None = None,
    **details: Detail,
) -> None:
    """Writes an account's event at once, in a transaction of its own (for failures: the
    request's own transaction is rolled back). A database error is logged, not raised: the
    answer to the request does not depend on it."""
    try:
        with api.sessions() as session:
            record(session, event, user_id=user_id, client_ip=client_ip, **details)
            session.commit()
    except Exception:
        logger.exception("audit event not stored event=%s", event)


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def for_org(self, org_id: str, *, before: int | None, limit: int) -> list[AuditEvent]:
        """Newest first: the organisation's events and its current members' account events."""
        members = select(Membership.user_id).where(Membership.org_id == org_id)
        statement = select(AuditEvent).where(
            or_(
                AuditEvent.org_id == org_id,
                AuditEvent.org_id.is_(None) & AuditEvent.user_id.in_(members),
            )
        )
        if before is not None:
            statement = statement.where(AuditEvent.id < before)
        return list(self.session.scalars(statement.order_by(AuditEvent.id.desc()).limit(limit)))
