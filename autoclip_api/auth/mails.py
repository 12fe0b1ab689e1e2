"""What the API mails to people about their account: the texts, and the links they carry.

A token travels in the link's fragment (``#token=``), which browsers send to no server and
put in no ``Referer``: the web app's page reads it and POSTs it to the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from autoclip_api.email.base import EmailMessage

API = "/api/v1"


def _link(app_url: str, page: str, token: str) -> str:
    return f"{app_url.rstrip('/')}/{page}#token={token}"


def _hours(ttl: timedelta) -> str:
    hours = ttl.total_seconds() / 3600
    return f"{hours:g} hours" if hours >= 1 else f"{ttl.total_seconds() / 60:g} minutes"


def verification_mail(
    app_url: str, to: str, name: str, token: str, ttl: timedelta, *, new_address: bool = False
) -> EmailMessage:
    """The link that proves ``to``: the account's address, or (``new_address``) the one the
    account asked to change to."""
    link = _link(app_url, "verify-email", token)
    if new_address:
        subject = "Confirm your new e-mail address for AutoClip"
        why = f"you asked to sign in to AutoClip with {to} from now on. Confirm it"
        otherwise = "Until then your address stays as it was."
    else:
        subject = "Confirm your e-mail address for AutoClip"
        why = f"confirm that {to} is yours"
        otherwise = (
            "If you did not sign up, ignore this mail: nobody can use the address for "
            "AutoClip without this link."
        )
    return EmailMessage(
        to=to,
        subject=subject,
        text=(
            f"Hello {name},\n\n{why}: open\n\n  {link}\n\n"
            f'(or POST {{"token": "{token}"}} to {API}/auth/verify-email).\n'
            f"The link works once, for {_hours(ttl)}. {otherwise}"
        ),
        kind="change_email" if new_address else "verify_email",
        links={"verify": link},
    )


def password_reset_mail(app_url: str, to: str, token: str, ttl: timedelta) -> EmailMessage:
    link = _link(app_url, "reset-password", token)
    return EmailMessage(
        to=to,
        subject="Reset your AutoClip password",
        text=(
            f"Someone (we hope you) asked to reset the password of the AutoClip account "
            f"of {to}. To choose a new one, open\n\n  {link}\n\n"
            f'(or POST {{"token": "{token}", "password": "..."}} to '
            f"{API}/auth/password/reset).\n"
            f"The link works once, for {_hours(ttl)}; a reset signs the account out everywhere. "
            "If it was not you, ignore this mail: your password stays as it is."
        ),
        kind="password_reset",
        links={"reset": link},
    )


def invitation_mail(
    app_url: str, to: str, org_name: str, inviter: str, role: str, ttl: timedelta
) -> EmailMessage:
    link = f"{app_url.rstrip('/')}/invitations"
    return EmailMessage(
        to=to,
        subject=f"{inviter} invites you to {org_name} on AutoClip",
        text=(
            f"{inviter} invites you to join the organisation {org_name!r} on AutoClip as "
            f"{role}.\n\nSign in (or sign up) with {to}, confirm the address, and accept or "
            f"decline at\n\n  {link}\n\n(GET {API}/users/me/invitations, then POST "
            f'{API}/invitations/<id>/accept with {{"role": "{role}"}}).\n'
            f"The invitation is open for {_hours(ttl)}. Nothing happens unless you accept it."
        ),
        kind="invitation",
        links={"invitations": link},
    )


# security notices: (subject, what happened) by event -----------------------------------------

_NOTICES: Mapping[str, tuple[str, str]] = {
    "login.repeated_failures": (
        "Failed sign-ins to your AutoClip account",
        "There were {failures} failed attempts to sign in to your account within the last "
        "{window_min} minutes. If that was not you, someone may be guessing your password: "
        "they are slowed down, and your own sign-ins still work. Consider a longer password.",
    ),
    "password.changed": (
        "Your AutoClip password was changed",
        "The password of your account was changed, and your other sessions were ended.",
    ),
    "password.reset": (
        "Your AutoClip password was reset",
        "The password of your account was reset through a link mailed to you, and every "
        "session was ended.",
    ),
    "email.change_requested": (
        "Your AutoClip e-mail address is about to change",
        "Someone signed in to your account asked to use {new_email} instead of this address. "
        "It changes only once that address is confirmed.",
    ),
    "email.changed": (
        "Your AutoClip e-mail address was changed",
        "Your account now signs in with {new_email} instead of this address.",
    ),
    "identity.linked": (
        "Google sign-in was linked to your AutoClip account",
        "Your account can now be signed in to with a Google account.",
    ),
    "identity.unlinked": (
        "Google sign-in was removed from your AutoClip account",
        "Your account can no longer be signed in to with its Google account.",
    ),
}
_IF_NOT_YOU = (
    "\n\nIf this was not you, reset your password at once "
    f"(POST {API}/auth/password/forgot) and check your account's sessions."
)


def notice_mail(to: str, event: str, details: Mapping[str, str | int]) -> EmailMessage:
    subject, text = _NOTICES.get(event, ("Security notice from AutoClip", "Event: {event}."))
    values = {**details, "event": event}
    if "window_s" in values:
        values["window_min"] = int(values["window_s"]) // 60
    return EmailMessage(
        to=to, subject=subject, text=text.format(**values) + _IF_NOT_YOU, kind=f"notice:{event}"
    )
