"""App database models (SQLAlchemy 2). Migrations live in ``autoclip_core/db/migrations``."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from autoclip_core.states import ContentState, JobState

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# identity and tenancy (the API's) -----------------------------------------------------------


class Organization(Base):
    """A tenant: every project (and what hangs off it) belongs to one organisation."""

    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organization", cascade="all, delete-orphan", passive_deletes=True
    )


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True, doc="Stored lower-cased.")
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(
        String(255), doc="argon2id (PHC string); NULL for accounts that only sign in via OAuth."
    )
    google_sub: Mapped[str | None] = mapped_column(String(255), unique=True)
    email_verified_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True),
        doc="When the owner of ``email`` proved it (a mailed link, or Google's verified claim); "
        "NULL: anyone may have typed it in.",
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )


class Membership(Base):
    """A user's role in an organisation (``owner``/``admin``/``editor``/``viewer``)."""

    __tablename__ = "memberships"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    organization: Mapped[Organization] = relationship(back_populates="memberships")


class AuthSession(Base):
    """One login (the ``sid`` claim): every token of a login carries it, revoking it ends them."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[str | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    authenticated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True),
        default=utcnow,
        doc="When its user last proved who they are in it (password or Google): the sensitive "
        "changes need this to be recent.",
    )
    expires_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), doc="Absolute: refresh-token rotation never extends it."
    )
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(String(32))


class RefreshToken(Base):
    """Issued refresh tokens by ``jti`` (never the token itself); used once, then rotated."""

    __tablename__ = "refresh_tokens"

    jti: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True
    )
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    successor_jti: Mapped[str | None] = mapped_column(
        String(32), doc="The token issued for this one: a use within the grace window gets it."
    )


class OAuthState(Base):
    """A pending OAuth authorization (the client's PKCE challenge and our nonce), keyed by the
    state's hash: only the client holding the challenge's verifier can complete it."""

    __tablename__ = "oauth_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    code_challenge: Mapped[str] = mapped_column(String(128))
    nonce: Mapped[str] = mapped_column(String(64))
    redirect_uri: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


# pipeline -------------------------------------------------------------------------------------


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (Index("ix_projects_org_id_created_at", "org_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"),
        doc="Owning organisation; NULL for projects the pipeline creates from configuration.",
    )
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    review_required: Mapped[bool] = mapped_column(Boolean, default=False)
    blocked_terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    template_id: Mapped[str] = mapped_column(String(32), default="short")
    channels: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["local"])
    daily_batch: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, doc="``DailyBatch`` (time, count, time zone); NULL: no daily batch."
    )
    topic_weights: Mapped[dict[str, float]] = mapped_column(
        JSON, default=dict, server_default="{}", doc="Term → weight (0..1) for the daily batch."
    )
    auto_generate: Mapped[bool] = mapped_column(
        Boolean,
        default=False,
        server_default=false(),
        doc="Request a content run for every new item at once (else drafts wait for the "
        "daily batch or a person). The sources file sets it for the projects it defines.",
    )
    voice: Mapped[str | None] = mapped_column(
        String(64), doc="The narration voice; NULL: the speech provider's voice for the language."
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), onupdate=utcnow)

    contents: Mapped[list[ContentItem]] = relationship(back_populates="project")


class Source(Base):
    """Where a project's items come from — and the one home of each source's health.

    ``origin`` says who defines it: ``api`` (created through the API; polled ones are read
    by the sources sensor from here) or ``file`` (mirrored from the sources file on every
    sensor tick, under a deterministic id; the file stays their definition). Kinds:
    ``rss``/``atom``/``youtube``/``json_api``/``drop_folder`` are polled, ``webhook`` is
    pushed to (HMAC-signed; its signing key is derived from the server secret and
    ``secret_nonce``, so the database alone cannot forge a push).

    The health columns are written by whoever ingests for the source (the sensor's tick,
    the webhook endpoint); the fetch position (ETag, Last-Modified, a reader's cursor) stays
    in the sensor cursor, which commits atomically with the tick's partition requests.
    """

    __tablename__ = "sources"
    __table_args__ = (Index("ix_sources_project_id_created_at", "project_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    origin: Mapped[str] = mapped_column(String(8), default="api")
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(Text)
    config: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict, doc="Kind-specific settings (channel id, JSON mapping, ...)."
    )
    poll_interval_s: Mapped[float | None] = mapped_column(
        Float, doc="Seconds between polls; NULL for pushed (webhook) sources."
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    secret_nonce: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), doc="When the definition last changed (not its health)."
    )
    # health
    last_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_warning: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    next_poll_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_new: Mapped[int] = mapped_column(Integer, default=0)
    last_duplicates: Mapped[int] = mapped_column(Integer, default=0)
    total_new: Mapped[int] = mapped_column(Integer, default=0)


class ContentItem(Base):
    """One content item = one Dagster partition (``id`` is the partition key)."""

    __tablename__ = "content_items"
    __table_args__ = (
        Index("ix_content_items_created_at_id", "created_at", "id"),
        Index("ix_content_items_project_id_created_at_id", "project_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(Text)
    source_id: Mapped[str | None] = mapped_column(
        ForeignKey("sources.id", ondelete="SET NULL"),
        index=True,
        doc="The source row that pushed the item (webhook); NULL for polled items.",
    )
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, doc="The normalised SourceItem.")
    language: Mapped[str | None] = mapped_column(String(8))
    state: Mapped[ContentState] = mapped_column(String(20), default=ContentState.DRAFT, index=True)
    state_reason: Mapped[str | None] = mapped_column(Text)
    video_key: Mapped[str | None] = mapped_column(Text)
    published_url: Mapped[str | None] = mapped_column(Text)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[str | None] = mapped_column(String(200))
    rejected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rejected_by: Mapped[str | None] = mapped_column(String(200))
    review_note: Mapped[str | None] = mapped_column(
        Text, doc="The reviewer's note with an approval, or the reason of a rejection."
    )
    template_id: Mapped[str | None] = mapped_column(
        String(64), doc="The item's own template; NULL: its project's."
    )
    channels: Mapped[list[str] | None] = mapped_column(
        JSON, doc="The item's own channels; NULL: its project's."
    )
    script: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, doc="The ``Script`` the pipeline last made for the item."
    )
    script_override: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, doc="A person's edit of the script: the ``script`` asset uses it as it is."
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    project: Mapped[Project] = relationship(back_populates="contents")
    jobs: Mapped[list[Job]] = relationship(back_populates="content", order_by="Job.created_at")
    events: Mapped[list[ContentEvent]] = relationship(
        back_populates="content", order_by="ContentEvent.id"
    )


class Job(Base):
    """One Dagster run for a content item — and, until it has one, the request for it.

    A run requested through the API is committed here first (``run_id`` NULL: the outbox)
    and submitted afterwards, tagged with this row's id; whoever submits it records the run
    id, so a request is never lost and never started twice. Runs started inside Dagster
    (sensors, schedules) get their row when the run-status sensors first see them.
    """

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    content_id: Mapped[str] = mapped_column(
        ForeignKey("content_items.id", ondelete="CASCADE"), index=True
    )
    run_id: Mapped[str | None] = mapped_column(
        String(64), unique=True, doc="NULL while the request has not reached Dagster."
    )
    job_name: Mapped[str] = mapped_column(String(100))
    state: Mapped[JobState] = mapped_column(String(20), default=JobState.PENDING)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    requested_by: Mapped[str | None] = mapped_column(
        String(32), doc="The user who asked for the run (NULL: Dagster started it)."
    )
    selection: Mapped[list[str] | None] = mapped_column(
        JSON, doc="Asset keys to materialise; NULL: the whole job."
    )
    tags: Mapped[dict[str, str]] = mapped_column(
        JSON, default=dict, doc="Run tags to submit with (besides the partition and request)."
    )
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submit_attempts: Mapped[int] = mapped_column(Integer, default=0)
    submit_error: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), doc="A submitter holds the request until then."
    )
    attempts: Mapped[int] = mapped_column(
        Integer, default=0, doc="Most tries any step of the run took (retries included)."
    )
    steps: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, doc="Per step: state, times, attempts, error (``db.jobs.StepRecord``)."
    )
    checks: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, doc="Asset check verdicts of the run (``db.jobs.CheckRecord``)."
    )

    content: Mapped[ContentItem] = relationship(back_populates="jobs")


class ContentEvent(Base):
    """Audit trail of content state transitions."""

    __tablename__ = "content_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    content_id: Mapped[str] = mapped_column(
        ForeignKey("content_items.id", ondelete="CASCADE"), index=True
    )
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    content: Mapped[ContentItem] = relationship(back_populates="events")


class PerformanceSnapshot(Base):
    """A published video's numbers on one channel at one time (the daily ``performance`` run).

    A table of its own, not content events: events are the audit trail of state changes,
    these are a time series of counters read by analytics.
    """

    __tablename__ = "performance_snapshots"
    __table_args__ = (
        Index("ix_performance_snapshots_content_id_captured_at", "content_id", "captured_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    content_id: Mapped[str] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    views: Mapped[int] = mapped_column(Integer, default=0)
    likes: Mapped[int] = mapped_column(Integer, default=0)
    comments: Mapped[int] = mapped_column(Integer, default=0)
    shares: Mapped[int] = mapped_column(Integer, default=0)
    watch_time_s: Mapped[float] = mapped_column(Float, default=0.0)
    captured_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# identity, continued: what is mailed to people ------------------------------------------------


class EmailToken(Base):
    """A single-use token mailed to an address (verify it, change to it, reset a password),
    stored as its SHA-256: the database alone cannot redeem one."""

    __tablename__ = "email_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    email: Mapped[str] = mapped_column(String(254), doc="The address it was sent to.")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Invitation(Base):
    """An offer to join an organisation with a role, to an e-mail address. Nobody becomes a
    member without accepting it while signed in with that (proven) address."""

    __tablename__ = "invitations"
    __table_args__ = (Index("ix_invitations_email_status", "email", "status"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254), doc="Stored lower-cased.")
    role: Mapped[str] = mapped_column(String(16))
    invited_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(
        String(16), doc="``pending``, ``accepted``, ``declined`` or ``revoked``."
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEvent(Base):
    """A security event: sign-ins and their failures, throttling, password and address
    changes, identity links, invitations, role changes. Kept when the account it is about is
    deleted (no foreign key on the users); goes with its organisation."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_org_id_id", "org_id", "id"),
        Index("ix_audit_events_user_id_id", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    event: Mapped[str] = mapped_column(String(48), doc="A stable dotted name: ``login.failed``.")
    user_id: Mapped[str | None] = mapped_column(String(32), doc="The account it is about.")
    actor_id: Mapped[str | None] = mapped_column(String(32), doc="Who did it, if not the user.")
    org_id: Mapped[str | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"),
        doc="The organisation it happened in; NULL for an account's own events.",
    )
    client_ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# what creators set up and what the pipeline made -------------------------------------------


class Channel(Base):
    """Where a project publishes: a local folder now, a YouTube or TikTok account once
    authorised. ``slug`` is the channel's publish target (the local publisher's folder under
    ``channels/``, the ``channel`` of receipts and performance snapshots).

    OAuth tokens are stored encrypted (AES-GCM, ``autoclip_core.crypto``), bound to the
    organisation and the channel: the database alone reveals none, and a ciphertext copied to
    another row does not decrypt.

    A channel configured in settings (headless: ``AUTOCLIP_YOUTUBE_REFRESH_TOKEN``…) has no
    organisation or project; its slug is its platform's name.
    """

    __tablename__ = "channels"
    __table_args__ = (Index("ix_channels_project_id_created_at", "project_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[str | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(32))
    access_token: Mapped[bytes | None] = mapped_column(LargeBinary, doc="AES-GCM ciphertext.")
    refresh_token: Mapped[bytes | None] = mapped_column(LargeBinary, doc="AES-GCM ciphertext.")
    token_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    identity: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, doc="The account on the platform: ``{id, name, url}`` as it answered."
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ChannelAuthorization(Base):
    """A channel's OAuth authorisation in progress, keyed by the state's hash: single use,
    expiring, bound to the organisation and channel; our PKCE verifier for the exchange."""

    __tablename__ = "channel_authorizations"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    user_id: Mapped[str | None] = mapped_column(String(32))
    code_verifier: Mapped[str] = mapped_column(String(128))
    redirect_uri: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class YouTubeQuota(Base):
    """What one Google API project spent of YouTube's quota on one Pacific day, per bucket
    (``units``; ``uploads`` when uploads have their own daily bucket)."""

    __tablename__ = "youtube_quota"

    api_project: Mapped[str] = mapped_column(String(200), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    bucket: Mapped[str] = mapped_column(String(16), primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)
    exhausted: Mapped[bool] = mapped_column(
        Boolean, default=False, doc="The platform refused for quota: nothing more that day."
    )


class VideoTemplate(Base):
    """An organisation's own RenderScript template (the built-ins live with the engine)."""

    __tablename__ = "templates"
    __table_args__ = (Index("ix_templates_org_id_created_at", "org_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    source: Mapped[dict[str, Any]] = mapped_column(JSON, doc="The RenderScript JSON.")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ContentMedia(Base):
    """A file the pipeline made for a content item (its video, thumbnail, narration audio,
    caption timings), by storage key: what the API serves under ``/contents/{id}/media``."""

    __tablename__ = "content_media"

    content_id: Mapped[str] = mapped_column(
        ForeignKey("content_items.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    storage_key: Mapped[str] = mapped_column(Text)
    media_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# what the API adds to content items: uploads and idempotent requests ---------------------------


class Upload(Base):
    """An item's publication on one channel, written before the upload starts: requested,
    uploading, waiting (quota, reconnect), published or failed, with tries; ``journal`` is
    what the publisher saved to resume it (session URI, publish id)."""

    __tablename__ = "uploads"
    __table_args__ = (Index("ix_uploads_state_retry_at", "state", "retry_at"),)

    content_id: Mapped[str] = mapped_column(
        ForeignKey("content_items.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), doc="An ``UploadState``.")
    url: Mapped[str | None] = mapped_column(Text)
    platform_id: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    journal: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    retry_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), doc="A waiting upload: when to try again (None: on reconnect)."
    )
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IdempotencyKey(Base):
    """The answer to a request made with an ``Idempotency-Key``, per user and route, for 24 h
    (``status_code`` NULL: the first request is still being answered)."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    route: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), doc="SHA-256 of the request.")
    status_code: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str | None] = mapped_column(Text, doc="The response body, as sent.")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


# what paid providers cost --------------------------------------------------------------------


class VendorUsage(Base):
    """One paid vendor call: what it used (``units``) and cost, charged to a content item and
    its project and organisation. The row outlives its item (analytics and credits need it),
    not its organisation."""

    __tablename__ = "vendor_usage"
    __table_args__ = (Index("ix_vendor_usage_org_id_created_at", "org_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    content_id: Mapped[str | None] = mapped_column(
        ForeignKey("content_items.id", ondelete="SET NULL"), index=True
    )
    org_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    project_id: Mapped[str | None] = mapped_column(
        ForeignKey("projects.id", ondelete="SET NULL"), index=True
    )
    provider: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(200))
    units: Mapped[dict[str, float]] = mapped_column(
        JSON, doc="Unit -> amount: input_tokens, characters, images, credits…"
    )
    cost_usd: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StoredDocument(Base):
    """A raw AI output or event (a prompt and its answer, a safety verdict, a provider call
    log), kept as the JSON it was: the document store's default home
    (``autoclip_core.documents.table``). ``content_id`` is a plain key, not a reference: the
    record outlives its item, as it would in MongoDB."""

    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_content_id_created_at", "content_id", "created_at"),
        Index("ix_documents_kind_created_at", "kind", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(64))
    content_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
