"""Password policy and argon2id hashing."""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi.exceptions import RequestValidationError
from zxcvbn import zxcvbn

MIN_LENGTH = 10
MAX_LENGTH = 1024
MIN_SCORE = 3
"""zxcvbn's score (0-4) a new password needs: 3 is "safely unguessable" (about 10^8 guesses or
more), which an offline attack on a stolen argon2id hash cannot reach in practice."""
STRENGTH_PREFIX = 72
"""zxcvbn's own input limit (its matching grows quickly with length): longer passwords are rated
on their first 72 characters, which only understates them."""
MIN_PERSONAL_LENGTH = 3
"""Shorter e-mail local parts and names are not searched for (``jo`` is in too many words)."""
COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")
POLICY = (
    f"At least {MIN_LENGTH} characters; not a common password; not containing your e-mail "
    f"address, its part before the @, or your name; rated at least {MIN_SCORE} of 4 by the "
    "zxcvbn strength estimator (a few uncommon words or a long random string pass)."
)

# zxcvbn keeps the personal words of the current call in a module-level dictionary: two
# threads rating passwords at once would each see the other's words.
_ZXCVBN_LOCK = threading.Lock()
_SPACES = re.compile(r"\s+")


@cache
def common_passwords() -> frozenset[str]:
    with COMMON_PASSWORDS.open(encoding="utf-8") as f:
        return frozenset(line.strip() for line in f if line.strip() and not line.startswith("# "))


def check_new_password(
    password: str, *, email: str | None, name: str | None, related: Iterable[str] = ()
) -> str:
    """The password if it meets :data:`POLICY`, else ``ValueError`` saying why and what helps.

    ``email`` and ``name`` are the account's own (a password built from them is the first an
    attacker who knows the account tries); ``related`` words (the organisation's name...) only
    lower the strength rating.
    """
    if not password.strip():
        raise ValueError("password must not be only whitespace")
    if len(password) < MIN_LENGTH:
        raise ValueError(f"password must be at least {MIN_LENGTH} characters long")
    squashed = _squashed(password)
    if squashed in common_passwords():
        raise ValueError("password is too common; choose another")
    if email and (_squashed(email) in squashed or _contains(squashed, email.split("@", 1)[0])):
        raise ValueError("password must not contain your e-mail address or its part before the @")
    if name and _contains(squashed, name):
        raise ValueError("password must not contain your name")
    words = [w for w in (email, email and email.split("@", 1)[0], name, *related) if w]
    with _ZXCVBN_LOCK:
        rating = zxcvbn(password[:STRENGTH_PREFIX], user_inputs=words)
    if rating["score"] < MIN_SCORE:
        feedback = rating["feedback"]
        advice = " ".join(part for part in (feedback["warning"], *feedback["suggestions"]) if part)
        raise ValueError(
            f"password is too easy to guess (strength {rating['score']} of 4, at least "
            f"{MIN_SCORE} needed)" + (f": {advice}" if advice else "")
        )
    return password


def enforce_password_policy(password: str, *, email: str, name: str) -> None:
    """:func:`check_new_password` for an existing account, refused as a 422 like the schema's
    own checks (``body.password``)."""
    try:
        check_new_password(password, email=email, name=name)
    except ValueError as exc:
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("body", "password"), "msg": f"Value error, {exc}"}]
        ) from None


def _squashed(text: str) -> str:
    """Compared without case or whitespace: ``Grace Hopper`` is in ``gracehopper2024!``."""
    return _SPACES.sub("", text).casefold()


def _contains(squashed_password: str, word: str) -> bool:
    word = _squashed(word)
    return len(word) >= MIN_PERSONAL_LENGTH and word in squashed_password


class Passwords:
    """argon2id with the configured parameters; older parameters are flagged for re-hashing."""

    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self.hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )
        self._dummy: str | None = None
        self._lock = threading.Lock()

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Constant work whether or not there is a hash (unknown users cost the same)."""
        if password_hash is None:
            password_hash = self._dummy_hash()
            self._check(password_hash, password)
            return False
        return self._check(password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self.hasher.check_needs_rehash(password_hash)
        except (InvalidHashError, ValueError):
            return True

    def _check(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _dummy_hash(self) -> str:
        with self._lock:
            if self._dummy is None:
                self._dummy = self.hasher.hash(secrets.token_urlsafe(24))
            return self._dummy
