"""A fake TikTok on a ``FakeServer``, after TikTok for Developers' documentation: Login Kit's
OAuth v2, the Content Posting API (creator info, Direct Post, upload to inbox, the media transfer
guide, post status) and the Display API's video query.

- ``POST /v2/oauth/token/`` (form): ``grant_type=authorization_code`` with ``client_key``,
  ``client_secret``, ``code``, ``redirect_uri`` and the PKCE ``code_verifier`` (the code challenge
  is the hex SHA-256 of the verifier, as Login Kit for Desktop computes it), or
  ``grant_type=refresh_token``. Refresh tokens rotate: each refresh issues a new one and the one
  sent stops working. Errors use OAuth's struct ``{error, error_description, log_id}``
  (``invalid_grant``, ``invalid_client``, ``invalid_request``, ``unsupported_grant_type``).
- Every other endpoint answers ``{data, error: {code, message, log_id}}`` with ``code`` ``ok``
  on success, and takes ``Authorization: Bearer <access token>``: a missing, unknown or expired
  token is 401 ``access_token_invalid``; a token without the endpoint's scope is 401
  ``scope_not_authorized``.
- ``POST /v2/post/publish/creator_info/query/``: nickname, username, avatar,
  ``privacy_level_options``, ``comment/duet/stitch_disabled``, ``max_video_post_duration_sec``.
- ``POST /v2/post/publish/video/init/`` (Direct Post, ``video.publish``) with ``post_info``
  and ``source_info``; ``POST /v2/post/publish/inbox/video/init/`` (``video.upload``) with
  ``source_info`` only. ``FILE_UPLOAD`` checks the chunk rules (sizes, count) and answers
  ``{publish_id, upload_url}``; ``PULL_FROM_URL`` checks the URL's prefix was verified and
  downloads it. Per user token: 6 inits a minute; at most 5 pending inbox shares a day
  (``spam_risk_too_many_pending_share``) and ``daily_post_cap`` direct posts
  (``spam_risk_too_many_posts``); an unaudited client may only post ``SELF_ONLY``.
- ``PUT <upload_url>``: one chunk per request, in order, with ``Content-Range: bytes a-b/total``
  and a video ``Content-Type``; 206 while chunks remain, 201 once the last one is in. A chunk
  out of order or of the wrong size is 416, a malformed or missing header 400, an unknown
  upload 404, an upload URL older than an hour 403.
- ``POST /v2/post/publish/status/fetch/`` (30 a minute per token): ``PROCESSING_UPLOAD`` /
  ``PROCESSING_DOWNLOAD`` until the bytes are in, then ``processing_polls`` more polls, then
  ``PUBLISH_COMPLETE`` (Direct Post, with ``publicaly_available_post_id`` — TikTok's spelling —
  when public) or ``SEND_TO_USER_INBOX``, or ``FAILED`` with ``fail_reason``.
- ``POST /v2/video/query/?fields=…`` (``video.list``) with ``{filters: {video_ids}}``.
- ``POST /v2/user/info/?fields=…`` (``user.info.basic``).

Limits are counted on ``clock`` (a ``FakeClock`` shared with the client's sleep makes a minute
pass in no time). ``inject(endpoint, *replies)`` answers the next requests to an endpoint with
the given replies (``tests.fakes.faults``: 429, 5xx, resets, stalls, malformed JSON) before the
real handler answers again; ``upload_faults`` and ``lost_answers`` do the same for one chunk of
an upload. Stored videos keep their bytes (``Post.sha256``).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import re
import secrets
import threading
import time
import urllib.request
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

from tests.fakes.clips import make_mp4
from tests.fakes.server import FakeServer, Reply, Request

MB = 1024 * 1024
MIN_CHUNK = 5 * MB
MAX_CHUNK = 64 * MB
MAX_LAST_CHUNK = 128 * MB
MAX_CHUNKS = 1000
UPLOAD_URL_TTL_S = 3600
ACCESS_TOKEN_TTL_S = 86_400
REFRESH_TOKEN_TTL_S = 31_536_000
VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm"})
PRIVACY_LEVELS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
# Requests per minute per user access token (the endpoints' reference pages).
PER_MINUTE = {"creator_info": 20, "init": 6, "status": 30, "video_query": 600, "user_info": 600}
PENDING_INBOX_PER_DAY = 5

TOKEN_PATH = "/v2/oauth/token/"
CREATOR_INFO_PATH = "/v2/post/publish/creator_info/query/"
DIRECT_INIT_PATH = "/v2/post/publish/video/init/"
INBOX_INIT_PATH = "/v2/post/publish/inbox/video/init/"
STATUS_PATH = "/v2/post/publish/status/fetch/"
UPLOAD_PATH = "/upload/video/"
VIDEO_QUERY_PATH = "/v2/video/query/"
USER_INFO_PATH = "/v2/user/info/"
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


class FakeClock:
    """Seconds that pass only when someone sleeps: the fake's limits and the client's waits on
    one timeline, so a minute-long rate-limit window costs no wall time."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.slept: list[float] = []

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self._now += max(0.0, seconds)


@dataclass
class Creator:
    open_id: str = "open-id-ada"
    username: str = "ada.clips"
    nickname: str = "Ada Clips"
    avatar_url: str = "https://p16.example/avatar.jpeg"
    privacy_level_options: list[str] = field(
        default_factory=lambda: ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
    )
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    max_video_post_duration_sec: int = 600


@dataclass
class Grant:
    open_id: str
    scope: frozenset[str]
    access_expires: float


@dataclass
class Post:
    publish_id: str
    open_id: str
    mode: str
    """``direct`` (Direct Post) or ``inbox`` (upload to inbox)."""
    source: str
    video_size: int
    chunk_size: int = 0
    total_chunk_count: int = 0
    post_info: dict[str, Any] = field(default_factory=dict)
    upload_id: str = ""
    created: float = 0.0
    data: bytearray = field(default_factory=bytearray)
    chunks: int = 0
    polls_after_upload: int = 0
    fail_reason: str | None = None
    post_id: int | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(bytes(self.data)).hexdigest()

    @property
    def complete(self) -> bool:
        return self.video_size > 0 and len(self.data) == self.video_size


def _json_reply(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Reply:
    return Reply(
        status=status,
        body=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


class FakeTikTok:
    """One app (``client_key``/``client_secret``) and its creators on ``server``."""

    def __init__(
        self,
        server: FakeServer,
        *,
        client_key: str = "fake-client-key",
        client_secret: str = "fake-client-secret",
        creator: Creator | None = None,
        clock: Callable[[], float] = time.time,
        audited: bool = True,
        processing_polls: int = 2,
        verified_url_prefixes: tuple[str, ...] = (),
        daily_post_cap: int = 15,
    ) -> None:
        self.server = server
        self.client_key = client_key
        self.client_secret = client_secret
        self.creator = creator or Creator()
        self.clock = clock
        self.audited = audited
        self.processing_polls = processing_polls
        self.verified_url_prefixes = verified_url_prefixes
        self.daily_post_cap = daily_post_cap
        self.fail_next_post: str | None = None
        """A ``fail_reason`` the next completed post ends with (``FAILED``)."""
        self.posts: dict[str, Post] = {}
        self.access_tokens: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, tuple[Grant, float]] = {}
        self.burned_refresh_tokens: set[str] = set()
        self.codes: dict[str, dict[str, str]] = {}
        self.token_requests: list[dict[str, str]] = []
        self.upload_puts: list[tuple[str, int, int]] = []
        """(publish_id, first byte, last byte) of every chunk accepted."""
        self.upload_faults: dict[int, list[Reply]] = {}
        """Chunk index -> replies answering the PUTs that bring that chunk, one each, before
        the chunk is read (a reset, a stall, a 503)."""
        self.lost_answers: set[int] = set()
        """Chunk indexes stored whose answer is lost (the connection reset instead)."""
        self._injected: dict[str, deque[Reply]] = defaultdict(deque)
        self._windows: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        routes: dict[str, Callable[[Request], Reply]] = {
            TOKEN_PATH: self._token,
            CREATOR_INFO_PATH: self._creator_info,
            DIRECT_INIT_PATH: self._direct_init,
            INBOX_INIT_PATH: self._inbox_init,
            STATUS_PATH: self._status,
            UPLOAD_PATH: self._upload,
            VIDEO_QUERY_PATH: self._video_query,
            USER_INFO_PATH: self._user_info,
        }
        for path, handler in routes.items():
            server.route(path, self._guarded(path, handler))

    # set-up --------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self.server.base

    def grant(self, scope: str = "user.info.basic,video.publish,video.upload,video.list") -> str:
        """A refresh token for the creator (as if they had authorized the app)."""
        return self._issue(Grant(self.creator.open_id, frozenset(scope.split(",")), 0.0))[
            "refresh_token"
        ]

    def authorize(self, *, redirect_uri: str, code_challenge: str, scope: str) -> str:
        """The code TikTok's consent screen redirects with, bound to the PKCE challenge."""
        code = secrets.token_urlsafe(16)
        with self._lock:
            self.codes[code] = {
                "redirect_uri": redirect_uri,
                "code_challenge": code_challenge,
                "scope": scope,
            }
        return code

    def expire_access_tokens(self) -> None:
        with self._lock:
            for grant in self.access_tokens.values():
                grant.access_expires = 0.0

    def inject(self, endpoint: str, *replies: Reply) -> None:
        """Answer the next requests to ``endpoint`` (a path constant) with ``replies``."""
        with self._lock:
            self._injected[endpoint].extend(replies)

    def refreshes(self) -> list[dict[str, str]]:
        return [r for r in self.token_requests if r.get("grant_type") == "refresh_token"]

    def published(self) -> list[Post]:
        """Posts whose every byte arrived (or was pulled): the videos that exist on TikTok."""
        with self._lock:
            return [p for p in self.posts.values() if p.complete]

    # plumbing ------------------------------------------------------------------------------

    def _guarded(
        self, path: str, handler: Callable[[Request], Reply]
    ) -> Callable[[Request], Reply]:
        def handle(request: Request) -> Reply:
            with self._lock:
                queue = self._injected.get(path)
                injected = queue.popleft() if queue else None
            if injected is not None:
                return injected
            with self._lock:
                return handler(request)

        return handle

    def _log_id(self) -> str:
        return f"2026120607{next(self._ids):010d}"

    def _error(self, status: int, code: str, message: str) -> Reply:
        return _json_reply(
            status, {"error": {"code": code, "message": message, "log_id": self._log_id()}}
        )

    def _ok(self, data: dict[str, Any]) -> Reply:
        return _json_reply(
            200, {"data": data, "error": {"code": "ok", "message": "", "log_id": self._log_id()}}
        )

    def _oauth_error(self, code: str, description: str) -> Reply:
        return _json_reply(
            400, {"error": code, "error_description": description, "log_id": self._log_id()}
        )

    def _authorized(self, request: Request, scopes: tuple[str, ...]) -> Grant | Reply:
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        grant = self.access_tokens.get(token)
        if grant is None or grant.access_expires <= self.clock():
            return self._error(
                401, "access_token_invalid", "The access token is invalid or not found."
            )
        if not grant.scope.intersection(scopes):
            return self._error(
                401,
                "scope_not_authorized",
                f"The user did not authorize the scope {' or '.join(scopes)}.",
            )
        return grant

    def _limited(self, endpoint: str, token_key: str) -> Reply | None:
        now = self.clock()
        window = self._windows[(endpoint, token_key)]
        while window and window[0] <= now - 60:
            window.popleft()
        if len(window) >= PER_MINUTE[endpoint]:
            return self._error(
                429,
                "rate_limit_exceeded",
                "Your request is blocked due to exceeding the API rate limit.",
            )
        window.append(now)
        return None

    def _gate(self, request: Request, endpoint: str, *scopes: str) -> Grant | Reply:
        if request.method != "POST":
            return self._error(405, "invalid_param", "Method not allowed.")
        grant = self._authorized(request, scopes)
        if isinstance(grant, Reply):
            return grant
        limited = self._limited(endpoint, request.headers["authorization"])
        return limited if limited is not None else grant

    @staticmethod
    def _body(request: Request) -> dict[str, Any] | None:
        try:
            body = json.loads(request.body or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None
        return body if isinstance(body, dict) else None

    # OAuth ---------------------------------------------------------------------------------

    def _issue(self, grant: Grant) -> dict[str, Any]:
        access, refresh = f"act.{secrets.token_urlsafe(18)}", f"rft.{secrets.token_urlsafe(18)}"
        now = self.clock()
        issued = Grant(grant.open_id, grant.scope, now + ACCESS_TOKEN_TTL_S)
        with self._lock:
            self.access_tokens[access] = issued
            self.refresh_tokens[refresh] = (issued, now + REFRESH_TOKEN_TTL_S)
        return {
            "access_token": access,
            "expires_in": ACCESS_TOKEN_TTL_S,
            "open_id": grant.open_id,
            "refresh_expires_in": REFRESH_TOKEN_TTL_S,
            "refresh_token": refresh,
            "scope": ",".join(sorted(grant.scope)),
            "token_type": "Bearer",
        }

    def _token(self, request: Request) -> Reply:
        if request.method != "POST":
            return self._oauth_error("invalid_request", "Only POST is supported.")
        if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            return self._oauth_error("invalid_request", "Content-Type must be form-urlencoded.")
        form = {k: v[0] for k, v in parse_qs(request.body.decode(), keep_blank_values=True).items()}
        self.token_requests.append(form)
        if (
            form.get("client_key") != self.client_key
            or form.get("client_secret") != self.client_secret
        ):
            return self._oauth_error("invalid_client", "Client key or secret is incorrect.")
        grant_type = form.get("grant_type")
        if grant_type == "refresh_token":
            token = form.get("refresh_token", "")
            entry = self.refresh_tokens.pop(token, None)
            if entry is None or entry[1] <= self.clock():
                if token in self.burned_refresh_tokens:
                    description = "Refresh token has been used: it was rotated."
                else:
                    description = "Refresh token is invalid or expired."
                return self._oauth_error("invalid_grant", description)
            self.burned_refresh_tokens.add(token)
            return _json_reply(200, self._issue(entry[0]))
        if grant_type == "authorization_code":
            code = self.codes.pop(form.get("code", ""), None)
            if code is None:
                return self._oauth_error("invalid_grant", "Authorization code is expired.")
            if form.get("redirect_uri") != code["redirect_uri"]:
                return self._oauth_error("invalid_grant", "redirect_uri does not match.")
            verifier = form.get("code_verifier", "")
            if hashlib.sha256(verifier.encode()).hexdigest() != code["code_challenge"]:
                return self._oauth_error(
                    "invalid_request", "Code verifier or code challenge is invalid."
                )
            scope = frozenset(code["scope"].split(","))
            return _json_reply(200, self._issue(Grant(self.creator.open_id, scope, 0.0)))
        return self._oauth_error("unsupported_grant_type", f"{grant_type!r} is not supported.")

    # Content Posting API -------------------------------------------------------------------

    def _creator_info(self, request: Request) -> Reply:
        grant = self._gate(request, "creator_info", "video.publish")
        if isinstance(grant, Reply):
            return grant
        c = self.creator
        return self._ok(
            {
                "creator_avatar_url": c.avatar_url,
                "creator_username": c.username,
                "creator_nickname": c.nickname,
                "privacy_level_options": list(c.privacy_level_options),
                "comment_disabled": c.comment_disabled,
                "duet_disabled": c.duet_disabled,
                "stitch_disabled": c.stitch_disabled,
                "max_video_post_duration_sec": c.max_video_post_duration_sec,
            }
        )

    def _direct_init(self, request: Request) -> Reply:
        return self._init(request, "direct")

    def _inbox_init(self, request: Request) -> Reply:
        return self._init(request, "inbox")

    def _init(self, request: Request, mode: str) -> Reply:
        grant = self._gate(request, "init", "video.publish" if mode == "direct" else "video.upload")
        if isinstance(grant, Reply):
            return grant
        body = self._body(request)
        if body is None:
            return self._error(400, "invalid_param", "The request body is not a JSON object.")
        source_info = body.get("source_info")
        if not isinstance(source_info, dict):
            return self._error(400, "invalid_param", "source_info is required.")
        post_info: dict[str, Any] = {}
        if mode == "direct":
            post_info = body.get("post_info") or {}
            refusal = self._check_post_info(post_info)
            if refusal is not None:
                return refusal
        refusal = self._check_caps(grant.open_id, mode)
        if refusal is not None:
            return refusal
        source = source_info.get("source")
        publish_id = f"v_{'pub' if mode == 'direct' else 'inbox'}_{source_info.get('source', '')}"
        publish_id = f"{publish_id.lower()}~v2.{next(self._ids)}"
        if source == "FILE_UPLOAD":
            sizes = [source_info.get(k) for k in ("video_size", "chunk_size", "total_chunk_count")]
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in sizes):
                return self._error(
                    400,
                    "invalid_param",
                    "video_size, chunk_size and total_chunk_count are required integers.",
                )
            video_size, chunk_size, total = (int(v) for v in sizes)  # type: ignore[arg-type]
            problem = chunk_rule_violation(video_size, chunk_size, total)
            if problem:
                return self._error(400, "invalid_param", problem)
            post = Post(
                publish_id,
                grant.open_id,
                mode,
                source,
                video_size,
                chunk_size,
                total,
                post_info,
                upload_id=secrets.token_hex(8),
                created=self.clock(),
            )
            self.posts[publish_id] = post
            query = urlencode({"upload_id": post.upload_id, "upload_token": secrets.token_hex(8)})
            return self._ok(
                {"publish_id": publish_id, "upload_url": f"{self.server.url(UPLOAD_PATH)}?{query}"}
            )
        if source == "PULL_FROM_URL":
            url = source_info.get("video_url")
            if not isinstance(url, str) or not url:
                return self._error(400, "invalid_param", "video_url is required.")
            if not any(url.startswith(prefix) for prefix in self.verified_url_prefixes):
                return self._error(
                    403,
                    "url_ownership_unverified",
                    "The URL prefix or domain of video_url is not verified for this app.",
                )
            post = Post(publish_id, grant.open_id, mode, source, 0, post_info=post_info)
            post.created = self.clock()
            self.posts[publish_id] = post
            self._pull(post, url)
            return self._ok({"publish_id": publish_id})
        return self._error(400, "invalid_param", f"Unknown source {source!r}.")

    def _pull(self, post: Post, url: str) -> None:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                data = response.read()
        except OSError:
            post.fail_reason = "video_pull_failed"
            return
        post.video_size = len(data)
        post.data = bytearray(data)

    def _check_post_info(self, post_info: dict[str, Any]) -> Reply | None:
        privacy = post_info.get("privacy_level")
        if privacy not in PRIVACY_LEVELS:
            return self._error(400, "invalid_param", "post_info.privacy_level is required.")
        if privacy not in self.creator.privacy_level_options:
            return self._error(
                400,
                "privacy_level_option_mismatch",
                f"{privacy} is not among the creator's privacy_level_options.",
            )
        if not self.audited and privacy != "SELF_ONLY":
            return self._error(
                403,
                "unaudited_client_can_only_post_to_private_accounts",
                "Unaudited clients can only post with SELF_ONLY visibility.",
            )
        title = post_info.get("title", "")
        if not isinstance(title, str) or len(title.encode("utf-16-le")) // 2 > 2200:
            return self._error(400, "invalid_param", "post_info.title exceeds 2200 characters.")
        return None

    def _check_caps(self, open_id: str, mode: str) -> Reply | None:
        day_ago = self.clock() - 86_400
        recent = [p for p in self.posts.values() if p.open_id == open_id and p.created > day_ago]
        if mode == "inbox":
            pending = [p for p in recent if p.mode == "inbox"]
            if len(pending) >= PENDING_INBOX_PER_DAY:
                return self._error(
                    403,
                    "spam_risk_too_many_pending_share",
                    "The daily upload cap from the API is reached for the current user.",
                )
        elif len([p for p in recent if p.mode == "direct"]) >= self.daily_post_cap:
            return self._error(
                403, "spam_risk_too_many_posts", "The daily post cap from the API is reached."
            )
        return None

    def _upload(self, request: Request) -> Reply:
        if request.method != "PUT":
            return Reply(status=405, body=b"method not allowed")
        upload_id = request.query.get("upload_id", "")
        post = next((p for p in self.posts.values() if p.upload_id == upload_id), None)
        if post is None or not upload_id:
            return Reply(status=404, body=b"upload not found")
        if self.clock() - post.created > UPLOAD_URL_TTL_S:
            return Reply(status=403, body=b"upload_url expired")
        if post.complete:
            return Reply(status=416, body=b"all chunks were already uploaded")
        faults = self.upload_faults.get(post.chunks)
        if faults:
            return faults.pop(0)
        if request.headers.get("content-type") not in VIDEO_TYPES:
            return Reply(status=400, body=b"Content-Type must be video/mp4, quicktime or webm")
        match = _CONTENT_RANGE.match(request.headers.get("content-range", ""))
        if match is None:
            return Reply(status=400, body=b"missing or malformed Content-Range")
        first, last, total = (int(g) for g in match.groups())
        if total != post.video_size or last < first or last - first + 1 != len(request.body):
            return Reply(status=400, body=b"Content-Range does not match the body or video_size")
        index = post.chunks
        expected_first = index * post.chunk_size
        is_last = index == post.total_chunk_count - 1
        expected_last = post.video_size - 1 if is_last else expected_first + post.chunk_size - 1
        if (first, last) != (expected_first, expected_last):
            return Reply(
                status=416,
                body=f"expected bytes {expected_first}-{expected_last}/{total}".encode(),
                headers={"Content-Range": f"bytes 0-{len(post.data) - 1}/{total}"}
                if post.data
                else {},
            )
        post.data.extend(request.body)
        post.chunks += 1
        self.upload_puts.append((post.publish_id, first, last))
        if index in self.lost_answers:
            self.lost_answers.discard(index)
            return Reply(reset=True)
        if post.complete:
            return Reply(status=201)
        return Reply(status=206, headers={"Content-Range": f"bytes 0-{last}/{total}"})

    def _status(self, request: Request) -> Reply:
        grant = self._gate(request, "status", "video.upload", "video.publish")
        if isinstance(grant, Reply):
            return grant
        body = self._body(request)
        post = self.posts.get(str((body or {}).get("publish_id")))
        if post is None or post.open_id != grant.open_id:
            return self._error(400, "invalid_publish_id", "publish_id does not exist.")
        data: dict[str, Any] = {"fail_reason": ""}
        if post.fail_reason:
            return self._ok({**data, "status": "FAILED", "fail_reason": post.fail_reason})
        if not post.complete:
            if post.source == "PULL_FROM_URL":
                return self._ok({**data, "status": "PROCESSING_DOWNLOAD", "downloaded_bytes": 0})
            if self.clock() - post.created > UPLOAD_URL_TTL_S:
                # TikTok documents no reason for an upload left unfinished; an incomplete file
                # is what its format check would see.
                post.fail_reason = "file_format_check_failed"
                return self._ok({**data, "status": "FAILED", "fail_reason": post.fail_reason})
            return self._ok(
                {**data, "status": "PROCESSING_UPLOAD", "uploaded_bytes": len(post.data)}
            )
        if post.polls_after_upload < self.processing_polls:
            post.polls_after_upload += 1
            status = (
                "PROCESSING_DOWNLOAD" if post.source == "PULL_FROM_URL" else "PROCESSING_UPLOAD"
            )
            return self._ok({**data, "status": status, "uploaded_bytes": post.video_size})
        if self.fail_next_post:
            post.fail_reason, self.fail_next_post = self.fail_next_post, None
            return self._ok({**data, "status": "FAILED", "fail_reason": post.fail_reason})
        if post.mode == "inbox":
            return self._ok({**data, "status": "SEND_TO_USER_INBOX"})
        if post.post_id is None:
            post.post_id = 7_300_000_000_000_000_000 + next(self._ids)
        public = post.post_info.get("privacy_level") == "PUBLIC_TO_EVERYONE"
        return self._ok(
            {
                **data,
                "status": "PUBLISH_COMPLETE",
                "publicaly_available_post_id": [post.post_id] if public else [],
                "uploaded_bytes": post.video_size,
            }
        )

    # Display API ---------------------------------------------------------------------------

    def _video_query(self, request: Request) -> Reply:
        grant = self._gate(request, "video_query", "video.list")
        if isinstance(grant, Reply):
            return grant
        body = self._body(request) or {}
        ids = (body.get("filters") or {}).get("video_ids") or []
        fields = request.query.get("fields", "id").split(",")
        videos = []
        for post in self.posts.values():
            if post.post_id is None or str(post.post_id) not in {str(i) for i in ids}:
                continue
            full = {
                "id": str(post.post_id),
                "title": post.post_info.get("title", ""),
                "create_time": int(post.created),
                "share_url": f"https://www.tiktok.com/@{self.creator.username}/video/{post.post_id}",
                "duration": 30,
                "view_count": 1200,
                "like_count": 87,
                "comment_count": 9,
                "share_count": 4,
            }
            videos.append({k: v for k, v in full.items() if k in fields})
        return self._ok({"videos": videos, "cursor": 0, "has_more": False})

    def _user_info(self, request: Request) -> Reply:
        grant = self._gate(request, "user_info", "user.info.basic")
        if isinstance(grant, Reply):
            return grant
        c = self.creator
        full = {
            "open_id": c.open_id,
            "union_id": f"union-{c.open_id}",
            "avatar_url": c.avatar_url,
            "display_name": c.nickname,
            "username": c.username,
        }
        fields = request.query.get("fields", "open_id").split(",")
        return self._ok({"user": {k: v for k, v in full.items() if k in fields}})


def chunk_rule_violation(video_size: int, chunk_size: int, total_chunk_count: int) -> str:
    """What the media transfer guide's chunk restrictions refuse in an init, or ``""``."""
    if video_size <= 0 or chunk_size <= 0:
        return "video_size and chunk_size must be positive."
    if video_size < MIN_CHUNK:
        if chunk_size != video_size or total_chunk_count != 1:
            return "A video under 5 MB must be uploaded whole: chunk_size = video_size, 1 chunk."
        return ""
    if not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
        return "chunk_size must be at least 5 MB and at most 64 MB."
    if total_chunk_count != video_size // chunk_size:
        return "total_chunk_count must be video_size / chunk_size rounded down."
    if not 1 <= total_chunk_count <= MAX_CHUNKS:
        return "There must be between 1 and 1000 chunks."
    if video_size > MAX_CHUNK and total_chunk_count < 2:
        return "A video over 64 MB must be uploaded in several chunks."
    if video_size - (total_chunk_count - 1) * chunk_size > MAX_LAST_CHUNK:
        return "The last chunk may be at most 128 MB."
    return ""


def mp4_of_size(size: int, seed: int = 1) -> bytes:
    """A real 2-second 64x64 mp4 grown to ``size`` bytes by a trailing MP4 ``free`` box of random
    bytes: still a valid video (a duration probe reads it), as big as an upload test needs."""
    clip = make_mp4(64, 64, 10, 2.0)
    filler = size - len(clip) - 8
    if filler < 0:
        raise ValueError(f"the clip alone is {len(clip)} bytes, more than {size}")
    return clip + (filler + 8).to_bytes(4, "big") + b"free" + random.Random(seed).randbytes(filler)
