from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from autoclip_core.cache_versions import changed, user_scope
from autoclip_core.db.models import User


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: str) -> User | None:
        return self.session.get(User, user_id)

    def get_by_email(self, email: str) -> User | None:
        return self.session.scalar(select(User).where(User.email == email.lower()))

    def get_by_google_sub(self, subject: str) -> User | None:
        return self.session.scalar(select(User).where(User.google_sub == subject))

    def add(self, user: User) -> User:
        self.session.add(user)
        self.session.flush()
        return user

    def delete(self, user_id: str) -> None:
        """Removes the user; the database cascades memberships, sessions and refresh tokens."""
        self.session.execute(delete(User).where(User.id == user_id))
        changed(self.session, user_scope(user_id))
