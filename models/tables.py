"""koe's tables: SQLAlchemy 2.0 typed ORM.

Alembic migrations (``models/migrations``) are the only way the schema changes: after editing this
module, add a revision. Every list and report query the API runs has an index here.

Datetimes are stored as naive UTC (SQLite keeps no time zones) and come back timezone-aware
through :class:`UTCDateTime`, so both backends return the same values.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes stored as naive UTC on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to naive UTC (naive input is taken as UTC)."""
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return stored naive UTC as an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of every koe table."""

    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Customer(Base):
    """A customer of the call center, identified by the telephony/CRM customer id."""

    __tablename__ = "customers"

    customer_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Agent(Base):
    """A support agent."""

    __tablename__ = "agents"

    agent_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Call(Base):
    """One recorded or imported call and its processing state.

    ``status`` is ``pending`` (claimed or waiting), ``done`` or ``failed`` (with ``error``). A call
    is identified by ``call_id``; ``content_sha256`` tells whether its input changed. ``claimed_by``
    and ``claimed_at`` are the processing lease that keeps two workers off the same call.
    """

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(200), unique=True)
    customer_id: Mapped[str | None] = mapped_column(
        ForeignKey("customers.customer_id", ondelete="CASCADE"), default=None
    )
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.agent_id", ondelete="SET NULL"), default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    source_path: Mapped[str] = mapped_column(Text, default="")
    recording_path: Mapped[str | None] = mapped_column(Text, default=None)
    content_sha256: Mapped[str] = mapped_column(String(64), default="")
    agent_channel: Mapped[int | None] = mapped_column(default=None)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    error: Mapped[str | None] = mapped_column(Text, default=None)
    error_transient: Mapped[bool] = mapped_column(Boolean, default=False)
    pipeline_version: Mapped[str] = mapped_column(String(32), default="")
    rules_version: Mapped[str] = mapped_column(String(32), default="")
    transcript_source: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    speakers_separated: Mapped[bool] = mapped_column(Boolean, default=True)
    duration_s: Mapped[float | None] = mapped_column(Float, default=None)
    effort_index: Mapped[float | None] = mapped_column(Float, default=None)
    do_effort: Mapped[float | None] = mapped_column(Float, default=None)
    feel_effort: Mapped[float | None] = mapped_column(Float, default=None)
    effort_components: Mapped[list[Any]] = mapped_column(default=list)
    customer_sentiment: Mapped[float | None] = mapped_column(Float, default=None)
    agent_sentiment: Mapped[float | None] = mapped_column(Float, default=None)
    customer_sentiment_start: Mapped[float | None] = mapped_column(Float, default=None)
    customer_sentiment_end: Mapped[float | None] = mapped_column(Float, default=None)
    trajectory: Mapped[str | None] = mapped_column(String(16), default=None)
    pii_count: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(200), default=None)
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("pipeline_runs.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(default=None)

    utterances: Mapped[list[UtteranceRow]] = relationship(
        back_populates="call", cascade="all, delete-orphan", passive_deletes=True, order_by="UtteranceRow.index"
    )
    metrics: Mapped[CallMetricsRow | None] = relationship(
        back_populates="call", cascade="all, delete-orphan", passive_deletes=True
    )
    tags: Mapped[list[TagRow]] = relationship(
        back_populates="call", cascade="all, delete-orphan", passive_deletes=True
    )
    categories: Mapped[list[CallCategoryRow]] = relationship(
        back_populates="call", cascade="all, delete-orphan", passive_deletes=True
    )
    topics: Mapped[list[CallTopicRow]] = relationship(
        back_populates="call", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        Index("ix_calls_customer_started", "customer_id", "started_at"),
        Index("ix_calls_agent_started", "agent_id", "started_at"),
        Index("ix_calls_started", "started_at"),
        Index("ix_calls_status", "status"),
    )


class UtteranceRow(Base):
    """One utterance of a call. ``text`` (raw) is kept only when ``KOE_RAW_TEXT`` is on."""

    __tablename__ = "utterances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_pk: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(Integer)
    speaker: Mapped[str] = mapped_column(String(16))
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(Text, default=None)
    redacted_text: Mapped[str] = mapped_column(Text)
    tokens: Mapped[str] = mapped_column(Text, default="")
    sentiment: Mapped[float] = mapped_column(Float, default=0.0)
    sentiment_label: Mapped[str] = mapped_column(String(16), default="neutral")
    confidence: Mapped[float | None] = mapped_column(Float, default=None)

    call: Mapped[Call] = relationship(back_populates="utterances")

    __table_args__ = (UniqueConstraint("call_pk", "index", name="uq_utterances_call_index"),)


class CallMetricsRow(Base):
    """Conversation metrics of a call (see ``transcribe/metrics.py`` for definitions)."""

    __tablename__ = "call_metrics"

    call_pk: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    duration_s: Mapped[float] = mapped_column(Float)
    talk_s_agent: Mapped[float] = mapped_column(Float)
    talk_s_customer: Mapped[float] = mapped_column(Float)
    talk_s_unknown: Mapped[float] = mapped_column(Float, default=0.0)
    talk_ratio_agent: Mapped[float | None] = mapped_column(Float, default=None)
    silence_count: Mapped[int] = mapped_column(Integer)
    silence_s: Mapped[float] = mapped_column(Float)
    longest_silence_s: Mapped[float] = mapped_column(Float)
    silence_ratio: Mapped[float] = mapped_column(Float)
    overtalk_count: Mapped[int] = mapped_column(Integer)
    overtalk_s: Mapped[float] = mapped_column(Float)
    hold_count: Mapped[int] = mapped_column(Integer)
    hold_s: Mapped[float] = mapped_column(Float)
    turn_count: Mapped[int] = mapped_column(Integer)
    speaking_rate_agent: Mapped[float | None] = mapped_column(Float, default=None)
    speaking_rate_customer: Mapped[float | None] = mapped_column(Float, default=None)
    intervals: Mapped[dict[str, Any]] = mapped_column(default=dict)

    call: Mapped[Call] = relationship(back_populates="metrics")


class TagRow(Base):
    """An effort/frustration tag on a call, with the evidence (redacted) and where it was said."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_pk: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    tag: Mapped[str] = mapped_column(String(40))
    utterance_index: Mapped[int] = mapped_column(Integer)
    start_s: Mapped[float] = mapped_column(Float)
    evidence: Mapped[str] = mapped_column(Text)
    rule: Mapped[str] = mapped_column(String(80), default="")

    call: Mapped[Call] = relationship(back_populates="tags")

    __table_args__ = (Index("ix_tags_call", "call_pk"), Index("ix_tags_tag_call", "tag", "call_pk"))


class CallCategoryRow(Base):
    """A rule-based category matched in a call."""

    __tablename__ = "call_categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_pk: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(120))
    utterance_index: Mapped[int] = mapped_column(Integer)
    start_s: Mapped[float] = mapped_column(Float)
    evidence: Mapped[str] = mapped_column(Text)

    call: Mapped[Call] = relationship(back_populates="categories")

    __table_args__ = (Index("ix_call_categories_call", "call_pk"), Index("ix_call_categories_category", "category"))


class TopicModelRow(Base):
    """A fitted topic model version; ``model`` is its JSON form, ``is_current`` marks the one in use."""

    __tablename__ = "topic_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    n_topics: Mapped[int] = mapped_column(Integer)
    n_documents: Mapped[int] = mapped_column(Integer, default=0)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    model: Mapped[dict[str, Any]] = mapped_column(default=dict)
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)


class TopicRow(Base):
    """A discovered topic. Its id is stable across refits (new models are mapped onto old ids)."""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    label: Mapped[str] = mapped_column(String(200))
    top_terms: Mapped[list[Any]] = mapped_column(default=list)
    quotes: Mapped[list[Any]] = mapped_column(default=list)
    model_id: Mapped[int | None] = mapped_column(ForeignKey("topic_models.id", ondelete="SET NULL"), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class TopicEditRow(Base):
    """A manager's edit of a topic (rename, or merge into another), re-applied after every refit."""

    __tablename__ = "topic_edits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(String(16))
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"))
    into_topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), default=None)
    label: Mapped[str | None] = mapped_column(String(200), default=None)
    edited_by: Mapped[str] = mapped_column(String(200), default="")
    edited_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_topic_edits_topic", "topic_id", "id"),)


class CallTopicRow(Base):
    """A call's weight on a topic, from the topic model version ``model_id``."""

    __tablename__ = "call_topics"

    call_pk: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True)
    weight: Mapped[float] = mapped_column(Float)
    model_id: Mapped[int | None] = mapped_column(ForeignKey("topic_models.id", ondelete="SET NULL"), default=None)
    #: The call's primary contact reason (at most one row per call; none: 「その他」).
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    call: Mapped[Call] = relationship(back_populates="topics")

    __table_args__ = (
        Index("ix_call_topics_topic", "topic_id", "call_pk"),
        Index("ix_call_topics_primary", "is_primary", "topic_id", "call_pk"),
    )


class CustomerSummaryRow(Base):
    """A customer's VOC summary and churn risk, recomputed when their calls change."""

    __tablename__ = "customer_summaries"

    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.customer_id", ondelete="CASCADE"), primary_key=True
    )
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    call_count: Mapped[int] = mapped_column(Integer, default=0)
    first_contact: Mapped[datetime | None] = mapped_column(default=None)
    last_contact: Mapped[datetime | None] = mapped_column(default=None)
    effort_index: Mapped[float | None] = mapped_column(Float, default=None)
    churn_score: Mapped[float] = mapped_column(Float, default=0.0)
    churn_level: Mapped[str] = mapped_column(String(8), default="low")
    churn_model_version: Mapped[str] = mapped_column(String(64), default="")
    top_reason: Mapped[str | None] = mapped_column(String(80), default=None)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)

    # The churn ranking reads (churn_score DESC, customer_id) pages: indexes in exactly that order
    # serve a page without sorting ties.
    __table_args__ = (
        Index("ix_customer_summaries_churn_rank", churn_score.desc(), "customer_id"),
        Index("ix_customer_summaries_level_churn_rank", "churn_level", churn_score.desc(), "customer_id"),
        Index("ix_customer_summaries_last_contact", "last_contact"),
    )


class TrainedModelRow(Base):
    """A trained model version (``kind``: ``sentiment`` or ``churn``) and its evaluation."""

    __tablename__ = "trained_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    version: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_trained_models_kind_current", "kind", "is_current"),)


class PipelineRun(Base):
    """One run of a koe flow (ingest, reprocess, refresh, rescore) with its counts and failures."""

    __tablename__ = "pipeline_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    flow: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    failures: Mapped[list[Any]] = mapped_column(default=list)
    pipeline_version: Mapped[str] = mapped_column(String(32), default="")
    prefect_flow_run_id: Mapped[str | None] = mapped_column(String(64), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)

    __table_args__ = (Index("ix_pipeline_runs_started", "started_at"),)


class ApiKey(Base):
    """An API key: only its SHA-256 hash is stored; ``prefix`` identifies it in listings."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(16))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)


class ForgottenCustomer(Base):
    """A customer erased on request: a suppression entry, so a later ingest does not bring them back.

    Holds only the SHA-256 of the customer id (a pseudonym; the id itself is gone) and when.
    """

    __tablename__ = "forgotten_customers"

    customer_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    forgotten_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChangeMarker(Base):
    """A counter that goes up when something every server process caches changes.

    ``keys`` goes up when a key is revoked, ``reports`` when a customer is forgotten: each process
    reads the markers (one small primary-key read) on every authenticated request and drops its
    key cache or report cache when a counter moved, so a change made by one worker, or by the CLI,
    is seen by every worker at once.
    """

    __tablename__ = "change_markers"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebSession(Base):
    """A page sign-in session: only the SHA-256 of its random cookie token is stored.

    In the database (not in a server process's memory) so every ``koe serve`` worker, and every
    host behind a load balancer, knows it, and signing out ends it everywhere at once.
    """

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()

    __table_args__ = (Index("ix_web_sessions_expires_at", "expires_at"),)


class WebhookDelivery(Base):
    """One outgoing webhook event and its delivery attempts."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str | None] = mapped_column(
        ForeignKey("customers.customer_id", ondelete="CASCADE"), default=None
    )
    url: Mapped[str] = mapped_column(Text)
    event: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (Index("ix_webhook_deliveries_customer", "customer_id"),)
