"""Pydantic response and request schemas: the JSON contract, as OpenAPI documents it.

The dicts come from ``models/`` (one source of truth for API, CLI and pages); these classes only
describe and check them at the edge. Shapes owned by another stage (customer summaries, briefs) allow
extra fields so that additions there do not break the API.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ErrorDetail(BaseModel):
    """What went wrong."""

    code: str = Field(examples=["not_found"])
    message: str = Field(examples=["call 'c-404' not found; list calls with GET /calls or `koe calls list`"])
    field: str | None = Field(None, description="The offending parameter (422 only).", examples=["limit"])


class ErrorBody(BaseModel):
    """Every error response."""

    error: ErrorDetail


class Health(BaseModel):
    """Liveness and version."""

    status: Literal["ok"] = "ok"
    version: str = Field(examples=["0.1.0"])
    pipeline_version: str = Field(examples=["2026.11.1"])


class CallSummary(BaseModel):
    """A call in a list."""

    call_id: str = Field(examples=["call-001"])
    customer_id: str | None = Field(examples=["C-1001"])
    agent_id: str | None = Field(examples=["A-07"])
    started_at: str | None = Field(examples=["2026-11-02T10:15:00+00:00"])
    duration_s: float | None = Field(description="Seconds.", examples=[184.2])
    status: str = Field(examples=["done"])
    effort_index: float | None = Field(description="Customer effort 0-100.", examples=[35.0])
    customer_sentiment: float | None = Field(description="Mean customer sentiment in [-1, 1].", examples=[-0.31])
    trajectory: str | None = Field(examples=["worsening"])
    tags: list[str] = Field(examples=[["repeat_contact", "long_wait"]])


class CallPage(BaseModel):
    """A page of calls; pass ``next_cursor`` as ``cursor`` for the next one."""

    items: list[CallSummary]
    next_cursor: str | None = Field(examples=["eyJ0IjoiMjAyNi0xMS0wMlQxMDoxNTowMCswMDowMCIsImlkIjo0Mn0"])


class UtteranceOut(BaseModel):
    """One utterance (redacted unless raw text is allowed)."""

    model_config = ConfigDict(extra="allow")
    index: int
    speaker: str = Field(examples=["customer"])
    start_s: float
    end_s: float
    text: str = Field(examples=["先週も電話したんですが、まだつながらないんです。"])
    sentiment: float


class TagOut(BaseModel):
    """A tag and where it was said."""

    model_config = ConfigDict(extra="allow")
    tag: str = Field(examples=["repeat_contact"])
    utterance_index: int
    start_s: float
    evidence: str


class TopicWeightOut(BaseModel):
    """A call's weight on a topic."""

    topic_id: int
    label: str
    weight: float


class CallDetail(BaseModel):
    """Everything koe knows about one call (``models.call_detail.call_detail``)."""

    model_config = ConfigDict(extra="allow")
    call_id: str
    customer_id: str | None
    agent_id: str | None
    started_at: str | None
    duration_s: float | None
    status: str
    error: str | None
    utterances: list[UtteranceOut]
    metrics: dict[str, Any] | None = Field(
        description="talk_ratio_agent, silence_count, silence_s, longest_silence_s, overtalk_count, "
        "overtalk_s, hold_count, hold_s, turn_count, speaking_rate {agent, customer} (morae/s), intervals."
    )
    topics: list[TopicWeightOut]
    categories: list[dict[str, Any]]
    sentiment: dict[str, Any]
    tags: list[TagOut]
    effort_index: float | None


class CustomerPage(BaseModel):
    """A page of customers."""

    items: list[dict[str, Any]] = Field(
        examples=[[{"customer_id": "C-1001", "churn_risk": {"score": 0.82, "level": "high"}, "top_reason": "churn_intent"}]]
    )
    next_cursor: str | None


class CustomerDetail(BaseModel):
    """A customer's VOC summary and churn risk (``api.presenters.customer_detail``)."""

    model_config = ConfigDict(extra="allow")
    customer_id: str = Field(examples=["C-1001"])
    churn_risk: dict[str, Any] | None = Field(
        None, description="{score 0-1, level low|medium|high, reasons:[{factor, contribution, evidence}], model_version}"
    )


class CustomerBrief(BaseModel):
    """What a CSM should know before calling (``api.presenters.customer_brief``)."""

    model_config = ConfigDict(extra="allow")
    customer_id: str = Field(examples=["C-1001"])


class PeriodCount(BaseModel):
    """Calls in one period."""

    period: str = Field(description="First day of the period, YYYY-MM-DD.", examples=["2026-11-02"])
    calls: int


class TagCount(BaseModel):
    """How many calls carry a tag."""

    tag: str
    calls: int


class Quote(BaseModel):
    """A representative (redacted) quote and the moment it comes from."""

    call_id: str | None
    start_s: float | None
    text: str


class TopicStats(BaseModel):
    """One topic in the report."""

    topic_id: int
    label: str = Field(examples=["回線 / つながらない / 工事"])
    top_terms: list[str]
    volume: int = Field(description="Calls whose primary contact reason is the topic (each call counts once).")
    secondary_volume: int = Field(description="Calls where the topic is present but not the primary reason.")
    share: float = Field(description="volume / total calls (0-1; with 「その他」 the shares add up to 1).")
    confidence: float | None = Field(description="Mean share (0-1) of its calls' topic weight the topic holds.")
    known_reason: str | None = Field(None, description="The known reason (KOE_TOPIC_SEEDS) the topic grew from.")
    new: bool = Field(False, description="Discovered in the data, not one of the known reasons (「新しい話題」).")
    trend: list[PeriodCount]
    customer_sentiment: float | None = Field(description="Mean customer sentiment in [-1, 1].")
    effort_index: float | None = Field(description="Mean effort index, 0-100.")
    effort_rate: float = Field(description="Share (0-1) of the topic's calls with at least one effort tag.")
    top_tags: list[TagCount]
    quotes: list[Quote]


class TopicReport(BaseModel):
    """Topics over a time range."""

    since: str | None
    until: str | None
    granularity: Literal["day", "week", "month"]
    total_calls: int
    calls_with_topic: int = Field(description="Calls with a primary topic; plus other_calls this is total_calls.")
    other_calls: int = Field(description="「その他」: calls no topic fits well (no primary topic).")
    periods: list[str]
    topics: list[TopicStats]


class AgentStats(BaseModel):
    """One agent's means per call."""

    agent_id: str
    calls: int
    talk_ratio_agent: float | None = Field(description="Agent talk / all talk, 0-1.")
    silence_s: float | None = Field(description="Mean seconds of silence per call.")
    silence_count: float | None
    overtalk_count: float | None
    overtalk_s: float | None = Field(description="Mean seconds of overtalk per call.")
    hold_count: float | None
    hold_s: float | None = Field(description="Mean seconds on hold per call.")
    effort_index: float | None = Field(description="Mean customer effort 0-100.")
    customer_sentiment: float | None


class AgentReport(BaseModel):
    """Agents over a time range."""

    since: str | None
    until: str | None
    agents: list[AgentStats]


class SearchHit(BaseModel):
    """An utterance that contains the query (redacted text)."""

    call_id: str
    customer_id: str | None
    started_at: str | None
    utterance_index: int
    speaker: str
    start_s: float
    end_s: float
    text: str


class SearchResults(BaseModel):
    """Search hits, newest first."""

    query: str
    hits: list[SearchHit]


class RunRequest(BaseModel):
    """Start a pipeline flow."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"flow": "process_calls", "parameters": {"source": "/srv/calls/2026-11"}}]},
    )
    flow: Literal["process_calls", "reprocess"]
    parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="process_calls: {source, manifest?, force?}; reprocess: {since? (ISO 8601), stage?: analysis|transcribe}",
    )


class RunAccepted(BaseModel):
    """A run that was started."""

    run_id: int
    status: Literal["running"] = "running"
    url: str = Field(examples=["/pipeline/runs/12"])


class RunOut(BaseModel):
    """A pipeline run."""

    model_config = ConfigDict(extra="allow")
    run_id: int
    flow: str
    status: str = Field(examples=["completed"])
    started_at: str | None
    finished_at: str | None
    parameters: dict[str, Any]
    counts: dict[str, Any]
    failures: list[Any]
    error: str | None


class RunList(BaseModel):
    """Most recent runs first."""

    items: list[RunOut]
