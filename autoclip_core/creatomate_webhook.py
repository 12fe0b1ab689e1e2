"""Creatomate's webhook, as the renderer that asks for it and the API route that receives it
both see it.

Creatomate's documentation: a render posted with ``webhook_url`` is reported to that URL by
one ``POST`` carrying the render object (``id``, ``status`` succeeded or failed, ``url``,
``error_message``…) and the ``metadata`` string the render was posted with. Creatomate signs
nothing, so the address is the secret: its last path segment is an HMAC-SHA256 of the
render's ``metadata``, keyed with ``AUTOCLIP_CREATOMATE_WEBHOOK_SECRET``. The route recomputes
it from the body's ``metadata`` and compares in constant time, so only a caller that knows
the address of that very render is heard. The completion is recorded in storage under
``callback_key(render id)``, where the waiting render step reads it.
"""

from __future__ import annotations

import hashlib
import hmac
import re

CALLBACK_PREFIX = "webhooks/creatomate"
RENDER_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
FINISHED = frozenset({"succeeded", "failed"})


def token(secret: str, metadata: str) -> str:
    """The address segment of a render whose ``metadata`` is given."""
    return hmac.new(secret.encode(), metadata.encode(), hashlib.sha256).hexdigest()


def webhook_address(base_url: str, secret: str, metadata: str) -> str:
    """Where Creatomate reports the render: the route's public URL and the render's token."""
    return f"{base_url.rstrip('/')}/{token(secret, metadata)}"


def verified(secret: str, metadata: str, given: str) -> bool:
    return hmac.compare_digest(token(secret, metadata), given)


def callback_key(render_id: str) -> str:
    """The storage key of a render's recorded completion."""
    if not RENDER_ID.fullmatch(render_id):
        raise ValueError(f"not a Creatomate render id: {render_id!r}")
    return f"{CALLBACK_PREFIX}/{render_id}.json"
