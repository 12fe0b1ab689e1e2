"""Recent authentication: what a stolen access token alone must not be enough for.

Setting a first password, changing the e-mail address and linking or unlinking a sign-in
method need the session's user to have proved who they are within :data:`RECENT_AUTH`: a
password sign-in or a Google sign-in opened the session that recently, or
``POST /auth/reauthenticate`` confirmed the password in it. Otherwise the answer is the
step-up challenge of RFC 9470 (401, ``insufficient_user_authentication``, ``max_age``).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from autoclip_api.auth.repository import AuthSessionRepository
from autoclip_api.auth.subject import AuthSubject
from autoclip_api.core.errors import ApiError
from autoclip_api.core.types import as_utc
from autoclip_core.db.models import utcnow

RECENT_AUTH = timedelta(minutes=5)


class ReauthenticationRequired(ApiError):
    status_code = 401
    default_detail = (
        "This needs a recent sign-in: confirm your password (POST /api/v1/auth/reauthenticate) "
        "or sign in with Google again, then retry within 5 minutes"
    )

    def __init__(self) -> None:
        seconds = int(RECENT_AUTH.total_seconds())
        super().__init__(
            headers={
                "WWW-Authenticate": 'Bearer error="insufficient_user_authentication", '
                f'error_description="A recent sign-in is required", max_age={seconds}'
            }
        )


def require_recent_auth(session: Session, subject: AuthSubject) -> None:
    """:class:`ReauthenticationRequired` unless the session authenticated recently."""
    at = AuthSessionRepository(session).authenticated_at(subject.session_id, subject.user_id)
    if at is None or utcnow() - as_utc(at) > RECENT_AUTH:
        raise ReauthenticationRequired()
