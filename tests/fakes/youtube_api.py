"""A fake YouTube Data API v3 with its upload endpoint and Google's OAuth 2.0 endpoints, on one
origin at 127.0.0.1, after Google's documentation (not after our client).

Served paths:

- ``GET /o/oauth2/v2/auth`` — the consent screen: checks ``client_id``, ``redirect_uri``,
  ``response_type=code``, ``scope``, PKCE (``code_challenge``, S256) and redirects to the
  ``redirect_uri`` with a one-time ``code`` and the ``state``.
- ``POST /token`` — ``grant_type=authorization_code`` (client credentials, the code once, the same
  ``redirect_uri``, the ``code_verifier`` matching the challenge; a ``refresh_token`` only for
  ``access_type=offline``) and ``grant_type=refresh_token`` (Google does not rotate refresh
  tokens). Failures as Google answers them: ``400 {"error": "invalid_grant"}`` for a revoked,
  expired or unknown refresh token or code, ``401 {"error": "invalid_client"}``.
- ``POST /upload/youtube/v3/videos?uploadType=resumable&part=…`` — starts a resumable session:
  the body is the video resource; ``X-Upload-Content-Length``/``X-Upload-Content-Type`` name the
  media; the answer is 200 with the session URI in ``Location``. Checks the snippet (title,
  description, tags, categoryId) and status (privacyStatus, publishAt) like ``videos.insert``,
  counts the quota and the channel's daily uploads.
- ``PUT <session URI>`` — with ``Content-Range: bytes FIRST-LAST/TOTAL`` the bytes of a chunk;
  ``bytes */TOTAL`` and no body asks how far the upload got. ``308 Resume Incomplete`` with
  ``Range: bytes=0-N`` (no ``Range`` before the first byte) while incomplete; ``201 Created``
  with the video resource once the last byte is in (``200`` when asked again). A chunk that is
  not the last must be a multiple of 256 KiB (400 otherwise); what a cut connection delivered is
  kept only up to a 256 KiB boundary, so a client must resume from the ``Range`` it is told,
  not from what it sent. An unknown or expired session is 404.
- ``POST /upload/youtube/v3/thumbnails/set?videoId=…`` — a JPEG or PNG of at most 2 MB.
- ``GET /youtube/v3/channels?part=snippet&mine=true`` and
  ``GET /youtube/v3/videos?part=statistics&id=…``.

API errors use Google's JSON error body ``{"error": {"code", "message", "errors": [{"domain",
"reason", "message"}]}}``: 401 ``authError`` (no, expired or unknown access token), 403
``insufficientPermissions`` (scope), 403 ``quotaExceeded`` (domain ``youtube.quota``) once the
project's units for the Pacific day are spent, 400 ``uploadLimitExceeded`` once the channel has
uploaded its daily number of videos.

Faults for tests: ``inject(operation, *replies)`` answers the next calls of an operation
(``"token"``, ``"videos.insert"``, ``"upload"``, ``"thumbnails.set"``, ``"channels.list"``,
``"videos.list"``) with ``tests.fakes.faults`` replies (503, 429, a stall, a reset, malformed
JSON); ``cut_at(offset, …)`` cuts the connection once the upload reaches each byte offset;
``hold_at(offset)`` stops reading there until ``release()`` (a client to kill mid-upload);
``lose_answer(operation, status)`` does the work but resets the connection instead of answering;
``expire_access_tokens()``, ``revoke(refresh_token)``, ``expire_session(upload_id)``. Time is
``clock`` (a ``FakeClock`` by default), so a test moves to the next Pacific day without waiting.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

from tests.fakes.server import Reply

CLIENT_ID = "autoclip-youtube.apps.googleusercontent.com"
CLIENT_SECRET = "fake-youtube-client-secret"
REDIRECT_URI = "http://127.0.0.1:8000/api/v1/channels/oauth/youtube/callback"
UPLOAD_SCOPE = "https://www.googleapis.com/auth/youtube.upload"
READONLY_SCOPE = "https://www.googleapis.com/auth/youtube.readonly"
FULL_SCOPE = "https://www.googleapis.com/auth/youtube"
CHUNK_UNIT = 256 * 1024
MAX_THUMBNAIL_BYTES = 2 * 1024 * 1024
PACIFIC = ZoneInfo("America/Los_Angeles")
ACCESS_TOKEN_SECONDS = 3599
DEFAULT_COSTS = {
    "videos.insert": 1600,
    "thumbnails.set": 50,
    "channels.list": 1,
    "videos.list": 1,
}
# https://developers.google.com/youtube/v3/docs/videoCategories — the assignable ones.
CATEGORY_IDS = frozenset(
    {"1", "2", "10", "15", "17", "19", "20", "22", "23", "24", "25", "26", "27", "28", "29"}
)
PRIVACY = frozenset({"private", "public", "unlisted"})
_READ_PIECE = 64 * 1024


class FakeClock:
    """Time the fake (and a client under test) reads; ``advance`` moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now += delta


@dataclass
class Channel:
    id: str = "UCfakeChannel000000000001"
    title: str = "Harbour News"
    custom_url: str = "@harbournews"


@dataclass
class Video:
    id: str
    channel_id: str
    resource: dict[str, Any]
    data: bytes
    thumbnail: bytes | None = None
    statistics: dict[str, int] = field(
        default_factory=lambda: {"viewCount": 0, "likeCount": 0, "commentCount": 0}
    )

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class Session:
    id: str
    channel_id: str
    resource: dict[str, Any]
    total: int | None
    content_type: str
    received: bytearray = field(default_factory=bytearray)
    video_id: str | None = None


@dataclass
class _Token:
    channel_id: str
    scopes: frozenset[str]
    expires_at: datetime


@dataclass
class _Grant:
    channel_id: str
    scopes: frozenset[str]
    redirect_uri: str
    code_challenge: str
    offline: bool


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 S256: base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def google_error(
    status: int, reason: str, message: str, domain: str = "youtube.api", **headers: str
) -> Reply:
    body = {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
        }
    }
    return Reply(
        status=status,
        body=json.dumps(body).encode(),
        headers={"Content-Type": "application/json; charset=UTF-8", **headers},
    )


def _json(status: int, body: dict[str, Any], **headers: str) -> Reply:
    return Reply(
        status=status,
        body=json.dumps(body).encode(),
        headers={"Content-Type": "application/json; charset=UTF-8", **headers},
    )


class FakeYouTubeAPI:
    """The fake; ``start()`` serves it on a free port, ``base`` is its origin."""

    def __init__(
        self,
        *,
        channel: Channel | None = None,
        clock: FakeClock | None = None,
        daily_units: int = 10_000,
        costs: dict[str, int] | None = None,
        daily_inserts: int | None = None,
        channel_daily_uploads: int | None = None,
        audited: bool = True,
        persist_unit: int = CHUNK_UNIT,
    ) -> None:
        """``daily_inserts`` set: uploads count in a bucket of their own (that many a Pacific
        day) instead of costing units; ``audited`` False: every upload is locked private, as
        Google does for unverified API projects."""
        self.channel = channel or Channel()
        self.clock = clock or FakeClock()
        self.daily_units = daily_units
        self.costs = {**DEFAULT_COSTS, **(costs or {})}
        self.daily_inserts = daily_inserts
        self.channel_daily_uploads = channel_daily_uploads
        self.audited = audited
        self.persist_unit = persist_unit
        self.videos: dict[str, Video] = {}
        self.sessions: dict[str, Session] = {}
        self.units_used: dict[date, int] = {}
        self.inserts_used: dict[date, int] = {}
        self.upload_times: list[datetime] = []
        self.cuts: list[int] = []
        """Byte offsets at which an upload's connection was cut."""
        self.upload_bytes_received = 0
        """Every media byte that reached the fake, re-sent ones included."""
        self.log: list[tuple[str, str, int]] = []
        """(method, operation, status) of every request."""
        self.token_requests: list[dict[str, str]] = []
        self._codes: dict[str, _Grant] = {}
        self._access: dict[str, _Token] = {}
        self._refresh: dict[str, _Grant] = {}
        self._gone_sessions: dict[str, int] = {}
        self._faults: dict[str, list[Reply]] = {}
        self._cut_offsets: list[int] = []
        self._hold: int | None = None
        self._lost: list[tuple[str, int]] = []
        self.holding = threading.Event()
        self._released = threading.Event()
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeYouTubeAPI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    # -- what a test sets up --------------------------------------------------------------

    def grant_refresh_token(self, scopes: tuple[str, ...] = (UPLOAD_SCOPE, READONLY_SCOPE)) -> str:
        """A refresh token as if the channel's owner had consented already (headless setup)."""
        token = "1//" + secrets.token_urlsafe(32)
        with self._lock:
            self._refresh[token] = _Grant(self.channel.id, frozenset(scopes), "", "", True)
        return token

    def inject(self, operation: str, *replies: Reply) -> None:
        """The next calls of ``operation`` get ``replies`` (one each, in order)."""
        with self._lock:
            self._faults.setdefault(operation, []).extend(replies)

    def cut_at(self, *offsets: int) -> None:
        """Cut the upload's connection when its bytes reach each of ``offsets`` (once each)."""
        with self._lock:
            self._cut_offsets = sorted({*self._cut_offsets, *offsets})

    def hold_at(self, offset: int) -> threading.Event:
        """Stop reading the upload at ``offset`` until ``release()`` (then cut it): a client
        stuck mid-upload, for a test to kill. The event is set once the upload is held."""
        with self._lock:
            self._hold = offset
        return self.holding

    def release(self) -> None:
        self._released.set()

    def next_hold(self, start: int, end: int) -> int | None:
        with self._lock:
            hold, self._hold = self._hold, None
            if hold is not None and start < hold <= end:
                return hold
            self._hold = hold
        return None

    def lose_answer(self, operation: str, status: int) -> None:
        """The next ``operation`` answered with ``status`` takes effect, but its answer is lost
        (the connection is reset instead): the video exists, or the session, unknown to the
        client."""
        with self._lock:
            self._lost.append((operation, status))

    def answer_lost(self, operation: str, status: int) -> bool:
        with self._lock:
            if (operation, status) in self._lost:
                self._lost.remove((operation, status))
                return True
        return False

    def expire_access_tokens(self) -> None:
        with self._lock:
            self._access.clear()

    def revoke(self, refresh_token: str) -> None:
        with self._lock:
            self._refresh.pop(refresh_token, None)

    def expire_session(self, upload_id: str, status: int = 404) -> None:
        with self._lock:
            self.sessions.pop(upload_id, None)
            self._gone_sessions[upload_id] = status

    def units_on(self, day: date) -> int:
        with self._lock:
            return self.units_used.get(day, 0)

    def pacific_day(self) -> date:
        return self.clock.now().astimezone(PACIFIC).date()

    # -- OAuth ----------------------------------------------------------------------------

    def authorize(self, query: dict[str, str]) -> Reply:
        required = ("client_id", "redirect_uri", "response_type", "scope")
        if any(not query.get(k) for k in required) or query["client_id"] != CLIENT_ID:
            return _json(400, {"error": "invalid_request"})
        if query["response_type"] != "code":
            return _json(400, {"error": "unsupported_response_type"})
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return _json(400, {"error": "invalid_request", "error_description": "PKCE"})
        code = "4/" + secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Grant(
                self.channel.id,
                frozenset(query["scope"].split()),
                query["redirect_uri"],
                query["code_challenge"],
                query.get("access_type") == "offline",
            )
        answer = {"code": code, "scope": query["scope"]}
        if "state" in query:
            answer["state"] = query["state"]
        return Reply(
            status=302, headers={"Location": f"{query['redirect_uri']}?{urlencode(answer)}"}
        )

    def token(self, form: dict[str, str]) -> Reply:
        with self._lock:
            self.token_requests.append(form)
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return _json(401, {"error": "invalid_client", "error_description": "Unauthorized"})
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            with self._lock:
                grant = self._codes.pop(form.get("code", ""), None)  # a code works once
            if grant is None or form.get("redirect_uri") != grant.redirect_uri:
                return _json(400, {"error": "invalid_grant", "error_description": "Bad Request"})
            if pkce_challenge(form.get("code_verifier", "")) != grant.code_challenge:
                return _json(
                    400, {"error": "invalid_grant", "error_description": "Invalid code verifier."}
                )
            answer = self._issue(grant)
            if grant.offline:
                refresh_token = "1//" + secrets.token_urlsafe(32)
                with self._lock:
                    self._refresh[refresh_token] = grant
                answer["refresh_token"] = refresh_token
            return _json(200, answer)
        if grant_type == "refresh_token":
            with self._lock:
                grant = self._refresh.get(form.get("refresh_token", ""))
            if grant is None:
                return _json(
                    400,
                    {
                        "error": "invalid_grant",
                        "error_description": "Token has been expired or revoked.",
                    },
                )
            return _json(200, self._issue(grant))
        return _json(400, {"error": "unsupported_grant_type"})

    def _issue(self, grant: _Grant) -> dict[str, Any]:
        access = "ya29." + secrets.token_urlsafe(32)
        expires = self.clock.now() + timedelta(seconds=ACCESS_TOKEN_SECONDS)
        with self._lock:
            self._access[access] = _Token(grant.channel_id, grant.scopes, expires)
        return {
            "access_token": access,
            "expires_in": ACCESS_TOKEN_SECONDS,
            "scope": " ".join(sorted(grant.scopes)),
            "token_type": "Bearer",
        }

    # -- the Data API ---------------------------------------------------------------------

    def caller(self, headers: dict[str, str], *scopes: str) -> _Token | Reply:
        """The access token's grant, or the documented refusal."""
        value = headers.get("authorization", "")
        token = value[7:] if value.startswith("Bearer ") else ""
        with self._lock:
            grant = self._access.get(token)
        if grant is None or grant.expires_at <= self.clock.now():
            return google_error(
                401,
                "authError",
                "Request had invalid authentication credentials.",
                domain="global",
                **{"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
            )
        if scopes and not grant.scopes & {*scopes, FULL_SCOPE}:
            return google_error(
                403,
                "insufficientPermissions",
                "Request had insufficient authentication scopes.",
                domain="global",
            )
        return grant

    def charge(self, operation: str) -> Reply | None:
        """Count ``operation`` against the Pacific day's quota; the refusal once it is spent."""
        day = self.pacific_day()
        with self._lock:
            if operation == "videos.insert" and self.daily_inserts is not None:
                if self.inserts_used.get(day, 0) >= self.daily_inserts:
                    return _quota_exceeded()
                self.inserts_used[day] = self.inserts_used.get(day, 0) + 1
                return None
            cost = self.costs[operation]
            if self.units_used.get(day, 0) + cost > self.daily_units:
                return _quota_exceeded()
            self.units_used[day] = self.units_used.get(day, 0) + cost
        return None

    def start_session(self, query: dict[str, str], headers: dict[str, str], body: bytes) -> Reply:
        grant = self.caller(headers, UPLOAD_SCOPE)
        if isinstance(grant, Reply):
            return grant
        if query.get("uploadType") != "resumable" or not query.get("part"):
            return google_error(400, "missingRequiredParameter", "No filter selected.")
        try:
            resource = json.loads(body or b"{}")
        except json.JSONDecodeError:
            return google_error(400, "parseError", "Parse Error", domain="global")
        refusal = _check_metadata(resource, self.clock.now())
        if refusal is not None:
            return refusal
        content_type = headers.get("x-upload-content-type", "application/octet-stream")
        if not (content_type.startswith("video/") or content_type == "application/octet-stream"):
            return google_error(
                400, "invalidVideoMetadata", f"Media type '{content_type}' is not supported."
            )
        length = headers.get("x-upload-content-length")
        if self.channel_daily_uploads is not None:
            since = self.clock.now() - timedelta(days=1)
            with self._lock:
                recent = sum(1 for t in self.upload_times if t > since)
            if recent >= self.channel_daily_uploads:
                return google_error(
                    400,
                    "uploadLimitExceeded",
                    "The user has exceeded the number of videos they may upload.",
                    domain="youtube.video",
                )
        refusal = self.charge("videos.insert")
        if refusal is not None:
            return refusal
        upload_id = secrets.token_urlsafe(24)
        with self._lock:
            self.sessions[upload_id] = Session(
                upload_id,
                grant.channel_id,
                resource,
                int(length) if length else None,
                content_type,
            )
        location = f"{self.base}/upload/youtube/v3/videos?" + urlencode(
            {"uploadType": "resumable", "part": query["part"], "upload_id": upload_id}
        )
        return Reply(status=200, headers={"Location": location, "Content-Length": "0"})

    def session_for(self, query: dict[str, str]) -> Session | Reply:
        upload_id = query.get("upload_id", "")
        with self._lock:
            session = self.sessions.get(upload_id)
            gone = self._gone_sessions.get(upload_id)
        if session is None:
            return google_error(gone or 404, "notFound", "Not Found", domain="global")
        return session

    def finish(self, session: Session, status: int) -> Reply:
        """The video resource of a complete upload; the video is created on the first call."""
        with self._lock:
            if session.video_id is None:
                video_id = secrets.token_urlsafe(8)[:11]
                resource = _video_resource(
                    video_id, session, self.clock.now(), audited=self.audited
                )
                self.videos[video_id] = Video(
                    video_id, session.channel_id, resource, bytes(session.received)
                )
                self.upload_times.append(self.clock.now())
                session.video_id = video_id
            video = self.videos[session.video_id]
        return _json(status, video.resource)

    def set_thumbnail(self, query: dict[str, str], headers: dict[str, str], body: bytes) -> Reply:
        grant = self.caller(headers, UPLOAD_SCOPE)
        if isinstance(grant, Reply):
            return grant
        with self._lock:
            video = self.videos.get(query.get("videoId", ""))
        if video is None or video.channel_id != grant.channel_id:
            return google_error(
                404, "videoNotFound", "The video that you are trying to update cannot be found."
            )
        if not body:
            return google_error(
                400, "mediaBodyRequired", "The request does not include the image content."
            )
        if len(body) > MAX_THUMBNAIL_BYTES:
            return google_error(
                413, "mediaBodyTooLarge", "Media larger than 2097152 bytes.", domain="global"
            )
        if not (body.startswith(b"\xff\xd8\xff") or body.startswith(b"\x89PNG\r\n\x1a\n")):
            return google_error(400, "invalidImage", "The provided image content is invalid.")
        refusal = self.charge("thumbnails.set")
        if refusal is not None:
            return refusal
        with self._lock:
            video.thumbnail = body
        url = f"https://i.ytimg.com/vi/{video.id}/default.jpg"
        return _json(
            200,
            {
                "kind": "youtube#thumbnailSetResponse",
                "etag": secrets.token_hex(8),
                "items": [{"default": {"url": url, "width": 120, "height": 90}}],
            },
        )

    def list_channels(self, query: dict[str, str], headers: dict[str, str]) -> Reply:
        grant = self.caller(headers, READONLY_SCOPE, UPLOAD_SCOPE)
        if isinstance(grant, Reply):
            return grant
        if query.get("mine") != "true" or "snippet" not in query.get("part", "").split(","):
            return google_error(400, "missingRequiredParameter", "No filter selected.")
        refusal = self.charge("channels.list")
        if refusal is not None:
            return refusal
        channel = self.channel
        item = {
            "kind": "youtube#channel",
            "etag": secrets.token_hex(8),
            "id": channel.id,
            "snippet": {
                "title": channel.title,
                "description": "",
                "customUrl": channel.custom_url,
                "publishedAt": "2019-04-01T10:00:00Z",
            },
        }
        return _json(
            200,
            {
                "kind": "youtube#channelListResponse",
                "etag": secrets.token_hex(8),
                "pageInfo": {"totalResults": 1, "resultsPerPage": 5},
                "items": [item],
            },
        )

    def list_videos(self, query: dict[str, str], headers: dict[str, str]) -> Reply:
        grant = self.caller(headers, READONLY_SCOPE, UPLOAD_SCOPE)
        if isinstance(grant, Reply):
            return grant
        if not query.get("id") or not query.get("part"):
            return google_error(400, "missingRequiredParameter", "No filter selected.")
        refusal = self.charge("videos.list")
        if refusal is not None:
            return refusal
        parts = set(query["part"].split(","))
        items = []
        with self._lock:
            for video_id in query["id"].split(","):
                video = self.videos.get(video_id)
                if video is None:
                    continue
                item: dict[str, Any] = {"kind": "youtube#video", "id": video.id}
                if "statistics" in parts:
                    # the API sends counts as strings (uint64 in JSON)
                    item["statistics"] = {
                        **{k: str(v) for k, v in video.statistics.items()},
                        "favoriteCount": "0",
                    }
                for part in ("snippet", "status"):
                    if part in parts:
                        item[part] = video.resource[part]
                items.append(item)
        return _json(
            200,
            {
                "kind": "youtube#videoListResponse",
                "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
                "items": items,
            },
        )

    def next_fault(self, operation: str) -> Reply | None:
        with self._lock:
            pending = self._faults.get(operation)
            return pending.pop(0) if pending else None

    def next_cut(self, start: int, end: int) -> int | None:
        """The first pending cut offset in ``(start, end]``, taken."""
        with self._lock:
            for offset in self._cut_offsets:
                if start < offset <= end:
                    self._cut_offsets.remove(offset)
                    return offset
        return None


def _quota_exceeded() -> Reply:
    return google_error(
        403,
        "quotaExceeded",
        'The request cannot be completed because you have exceeded your <a href="/youtube/v3/'
        'getting-started#quota">quota</a>.',
        domain="youtube.quota",
    )


def _tags_length(tags: list[str]) -> int:
    """YouTube counts the commas between tags, and quotes around a tag with a space."""
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(0, len(tags) - 1)


def _check_metadata(resource: dict[str, Any], now: datetime) -> Reply | None:
    """``videos.insert``'s documented refusals of a snippet and status."""
    snippet = resource.get("snippet") or {}
    status = resource.get("status") or {}
    title = snippet.get("title", "")
    if not isinstance(title, str) or not title.strip() or len(title) > 100 or "<" in title:
        return google_error(
            400, "invalidTitle", "The request metadata specifies an invalid or empty video title."
        )
    description = snippet.get("description", "")
    if len(description.encode()) > 5000 or "<" in description or ">" in description:
        return google_error(
            400,
            "invalidDescription",
            "The request metadata specifies an invalid video description.",
        )
    tags = snippet.get("tags", [])
    if not isinstance(tags, list) or _tags_length(tags) > 500:
        return google_error(
            400, "invalidTags", "The request metadata specifies invalid video keywords."
        )
    if "categoryId" in snippet and str(snippet["categoryId"]) not in CATEGORY_IDS:
        return google_error(
            400,
            "invalidCategoryId",
            "The snippet.categoryId property specifies an invalid category ID.",
        )
    privacy = status.get("privacyStatus", "public")
    if privacy not in PRIVACY:
        return google_error(400, "invalidVideoMetadata", "The request metadata is invalid.")
    publish_at = status.get("publishAt")
    if publish_at is not None:
        try:
            when = datetime.fromisoformat(publish_at.replace("Z", "+00:00"))
        except (AttributeError, ValueError):
            when = None
        if privacy != "private" or when is None or when <= now:
            return google_error(
                400,
                "invalidPublishAt",
                "The request metadata specifies an invalid scheduled publishing time.",
            )
    return None


def _video_resource(
    video_id: str, session: Session, now: datetime, *, audited: bool
) -> dict[str, Any]:
    snippet = dict(session.resource.get("snippet") or {})
    status = dict(session.resource.get("status") or {})
    status.setdefault("privacyStatus", "public")
    if not audited:
        status["privacyStatus"] = "private"
        status.pop("publishAt", None)
    snippet.update(
        {
            "channelId": session.channel_id,
            "publishedAt": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "thumbnails": {"default": {"url": f"https://i.ytimg.com/vi/{video_id}/default.jpg"}},
        }
    )
    status.update(
        {"uploadStatus": "uploaded", "license": "youtube", "embeddable": True,
         "publicStatsViewable": True}
    )  # fmt: skip
    return {
        "kind": "youtube#video",
        "etag": secrets.token_hex(8),
        "id": video_id,
        "snippet": snippet,
        "status": status,
    }


def _parse_content_range(value: str) -> tuple[int | None, int | None, int | None] | None:
    """``bytes A-B/T`` → (A, B, T); ``bytes */T`` → (None, None, T); ``*`` totals are None."""
    if not value.startswith("bytes "):
        return None
    span, _, total = value[6:].partition("/")
    try:
        size = None if total == "*" else int(total)
        if span == "*":
            return None, None, size
        first, _, last = span.partition("-")
        return int(first), int(last), size
    except ValueError:
        return None


def _handler_for(api: FakeYouTubeAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a client's connection pool expects
        disable_nagle_algorithm = True  # headers and body go out at once, no delayed-ACK stall

        def do_GET(self) -> None:
            path, query = self._target()
            if path == "/o/oauth2/v2/auth":
                self._answer("authorize", lambda: api.authorize(query))
            elif path == "/youtube/v3/channels":
                self._answer("channels.list", lambda: api.list_channels(query, self._headers()))
            elif path == "/youtube/v3/videos":
                self._answer("videos.list", lambda: api.list_videos(query, self._headers()))
            else:
                self._answer(
                    "unknown", lambda: google_error(404, "notFound", "Not Found", "global")
                )

        def do_POST(self) -> None:
            path, query = self._target()
            headers = self._headers()
            if path == "/token":
                body = self._body()
                form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                self._answer("token", lambda: api.token(form))
            elif path == "/upload/youtube/v3/videos":
                body = self._body()
                self._answer("videos.insert", lambda: api.start_session(query, headers, body))
            elif path == "/upload/youtube/v3/thumbnails/set":
                body = self._body()
                self._answer("thumbnails.set", lambda: api.set_thumbnail(query, headers, body))
            else:
                self._body()
                self._answer(
                    "unknown", lambda: google_error(404, "notFound", "Not Found", "global")
                )

        def do_PUT(self) -> None:
            path, query = self._target()
            if path != "/upload/youtube/v3/videos":
                self._body()
                self._answer(
                    "unknown", lambda: google_error(404, "notFound", "Not Found", "global")
                )
                return
            fault = api.next_fault("upload")
            if fault is not None:
                if not fault.reset:
                    self._body()  # a 5xx comes after the bytes, which are then dropped
                self._send("upload", fault)
                return
            self._send("upload", self._upload(query))

        def _upload(self, query: dict[str, str]) -> Reply | None:
            headers = self._headers()
            length = int(headers.get("content-length") or 0)
            grant = api.caller(headers)
            session = api.session_for(query)
            if isinstance(grant, Reply):
                self._drain(length)
                return grant
            if isinstance(session, Reply):
                self._drain(length)
                return session
            if grant.channel_id != session.channel_id:
                self._drain(length)
                return google_error(403, "forbidden", "Forbidden", domain="global")
            content_range = headers.get("content-range")
            if content_range is None:
                first, last, total = 0, length - 1, session.total or length
            else:
                parsed = _parse_content_range(content_range)
                if parsed is None:
                    self._drain(length)
                    return google_error(400, "badContent", "Invalid Content-Range.", "global")
                first, last, total = parsed
            if total is not None and session.total is not None and total != session.total:
                self._drain(length)
                return google_error(400, "badContent", "Content-Range total differs.", "global")
            if session.video_id is not None:
                self._drain(length)
                return api.finish(session, 200)
            if first is None or last is None:  # bytes */TOTAL: how far did it get?
                self._drain(length)
                return _resume_incomplete(len(session.received))
            if last - first + 1 != length or first > len(session.received):
                self._drain(length)
                return google_error(400, "badContent", "Content-Range does not match.", "global")
            final = total is not None and last + 1 == total
            if not final and length % CHUNK_UNIT:
                self._drain(length)
                return google_error(
                    400,
                    "badContent",
                    "Invalid request. The number of bytes uploaded is required to be a "
                    f"multiple of {CHUNK_UNIT} bytes, except for the final request. The "
                    f"received request contained {length} bytes.",
                    domain="global",
                )
            hold = api.next_hold(first, last + 1)
            cut = hold if hold is not None else api.next_cut(first, last + 1)
            wanted = (cut if cut is not None else last + 1) - first
            data = self._read(wanted)
            with api._lock:
                api.upload_bytes_received += len(data)
                overlap = len(session.received) - first  # bytes it already holds are skipped
                session.received += data[overlap:]
            if hold is not None:
                api.holding.set()
                api._released.wait(timeout=60)
            if cut is not None or len(data) < wanted:
                with api._lock:
                    keep = len(session.received) // api.persist_unit * api.persist_unit
                    del session.received[keep:]
                    api.cuts.append(first + len(data))
                return None
            if final:
                return api.finish(session, 201)
            return _resume_incomplete(len(session.received))

        # -- plumbing -------------------------------------------------------------------

        def _target(self) -> tuple[str, dict[str, str]]:
            parts = urlsplit(self.path)
            return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}

        def _headers(self) -> dict[str, str]:
            return {k.lower(): v for k, v in self.headers.items()}

        def _body(self) -> bytes:
            return self._read(int(self.headers.get("Content-Length") or 0))

        def _read(self, count: int) -> bytes:
            pieces = []
            left = count
            try:
                while left > 0:
                    piece = self.rfile.read(min(_READ_PIECE, left))
                    if not piece:
                        break
                    pieces.append(piece)
                    left -= len(piece)
            except (ConnectionError, TimeoutError):
                pass
            return b"".join(pieces)

        def _drain(self, count: int) -> None:
            self._read(count)

        def _answer(self, operation: str, make: Any) -> None:
            fault = api.next_fault(operation)
            self._send(operation, fault if fault is not None else make())

        def _send(self, operation: str, reply: Reply | None) -> None:
            """``None``: cut the connection (a TCP reset, as a dropped network looks)."""
            if reply is not None and api.answer_lost(operation, reply.status):
                reply = None
            if reply is not None and reply.delay:
                time.sleep(reply.delay)
            if reply is None or reply.reset:
                with api._lock:
                    api.log.append((self.command, operation, 0))
                # Linger 0: close() sends RST rather than FIN.
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
                self.close_connection = True
                return
            with api._lock:
                api.log.append((self.command, operation, reply.status))
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    if name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def _resume_incomplete(received: int) -> Reply:
    headers = {"Range": f"bytes=0-{received - 1}"} if received else {}
    return Reply(status=308, headers=headers)


@contextmanager
def running_fake_youtube(**options: Any) -> Iterator[FakeYouTubeAPI]:
    api = FakeYouTubeAPI(**options).start()
    try:
        yield api
    finally:
        api.stop()
