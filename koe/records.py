"""Typed records passed between koe's stages.

Every stage takes and returns these small frozen dataclasses. Units are in the field names
(``start_s``, ``duration_s``, ``talk_ratio_agent``). Pydantic lives only at the edges (settings,
API schemas) and ORM objects never leave ``models/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

Speaker = Literal["agent", "customer", "unknown"]
SPEAKERS: tuple[Speaker, ...] = ("agent", "customer", "unknown")

CallStatus = Literal["pending", "done", "failed"]
SentimentLabel = Literal["positive", "negative", "neutral"]
Trajectory = Literal["improving", "worsening", "positive", "negative", "neutral"]
RiskLevel = Literal["low", "medium", "high"]



@dataclass(frozen=True, slots=True)
class Utterance:
    """One stretch of speech by one speaker.

    Attributes:
        speaker: ``agent``, ``customer`` or ``unknown`` (mono recordings).
        start_s: Start time from the beginning of the call, in seconds.
        end_s: End time, in seconds; always >= ``start_s``.
        text: What was said, as transcribed (or imported), unredacted.
        confidence: Whisper's average log-probability of the tokens (<= 0, closer to 0 is
            surer); ``None`` for imported transcripts.

    """

    speaker: Speaker
    start_s: float
    end_s: float
    text: str
    confidence: float | None = None

    @property
    def duration_s(self) -> float:
        """Length of the utterance in seconds."""
        return self.end_s - self.start_s


@dataclass(frozen=True, slots=True)
class Transcript:
    """A whole call as time-ordered, speaker-attributed utterances.

    Attributes:
        utterances: Utterances sorted by ``start_s``.
        duration_s: Length of the recording in seconds (for imports: the last ``end_s``).
        speakers_separated: True when agent and customer are known (stereo channels or an
            imported transcript with speakers); False for mono audio, where every utterance
            is ``unknown``.
        language: ISO 639-1 code of the language spoken (detected or configured).
        source: Where the text came from: ``"whisper:<model>"`` or ``"import"``.
        language_probability: Whisper's confidence in ``language``; ``None`` for imports.

    """

    utterances: tuple[Utterance, ...]
    duration_s: float
    speakers_separated: bool
    language: str = "ja"
    source: str = "import"
    language_probability: float | None = None


@dataclass(frozen=True, slots=True)
class Interval:
    """A span of the call timeline, in seconds, with who it concerns (if anyone)."""

    start_s: float
    end_s: float
    speaker: Speaker | None = None

    @property
    def duration_s(self) -> float:
        """Length of the span in seconds."""
        return self.end_s - self.start_s


@dataclass(frozen=True, slots=True)
class CallMetrics:
    """Conversation metrics of one call; definitions live in ``transcribe/metrics.py``.

    ``talk_ratio_agent`` and the speaking rates are ``None`` when they cannot be measured
    (mono recordings, a side that never spoke). ``overtalks`` carry the speaker who started
    the overtalk in ``Interval.speaker``.
    """

    duration_s: float
    talk_s_agent: float
    talk_s_customer: float
    talk_s_unknown: float
    talk_ratio_agent: float | None
    silence_count: int
    silence_s: float
    longest_silence_s: float
    silence_ratio: float
    overtalk_count: int
    overtalk_s: float
    hold_count: int
    hold_s: float
    turn_count: int
    speaking_rate_agent: float | None
    speaking_rate_customer: float | None
    silences: tuple[Interval, ...] = ()
    overtalks: tuple[Interval, ...] = ()
    holds: tuple[Interval, ...] = ()


@dataclass(frozen=True, slots=True)
class CallSource:
    """One call to ingest: a recording or an imported transcript, and who it is with.

    Attributes:
        call_id: Stable identifier of the call (manifest ``call_id`` or the file stem).
        audio_path: The recording; ``None`` for imported transcripts.
        sha256: Hex digest of the recording's bytes (or of the transcript line).
        customer_id: Customer identifier, ``None`` when unknown.
        agent_id: Agent identifier, ``None`` when unknown.
        started_at: When the call started (timezone-aware), ``None`` when unknown.
        agent_channel: 0 or 1 for stereo recordings, ``None`` for mono or imports.
        attributes: Unknown manifest columns, kept verbatim.
        transcript: The imported transcript, for transcript inputs.
        origin: Human-readable origin for messages (``calls/0012.wav``, ``x.jsonl:3``).

    """

    call_id: str
    sha256: str
    origin: str
    audio_path: Path | None = None
    customer_id: str | None = None
    agent_id: str | None = None
    started_at: datetime | None = None
    agent_channel: int | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    transcript: Transcript | None = None


@dataclass(frozen=True, slots=True)
class SourceProblem:
    """An input that could not become a ``CallSource``; recorded as a failed call."""

    call_id: str
    origin: str
    error: str
    sha256: str = ""


@dataclass(frozen=True, slots=True)
class UtteranceAnalysis:
    """Text-mining results for one utterance.

    Attributes:
        index: Position of the utterance in ``Transcript.utterances``.
        redacted_text: The text with PII replaced by typed placeholders (［電話番号］, ...).
        sentiment: Score in [-1, 1].
        sentiment_label: ``positive``, ``negative`` or ``neutral``.
        tokens: Content-word lemmas (compounds joined) used for topic mining.

    """

    index: int
    redacted_text: str
    sentiment: float
    sentiment_label: SentimentLabel
    tokens: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TagHit:
    """An effort/frustration tag with its evidence.

    Attributes:
        tag: Fixed tag id (``repeat_contact``, ``transfer``, ``churn_intent``, ...).
        utterance_index: Index of the utterance that carries the evidence.
        start_s: Start of that utterance, in seconds, so a listener can jump to it.
        evidence: The whole sentence that carries the signal, redacted, with the matched span
            marked 【like this】 (what a CSM reads and listens for).
        rule: Id of the rule that fired (for explanations and audits).
        matched: The matched span alone (redacted), for audits; empty when not recorded.

    """

    tag: str
    utterance_index: int
    start_s: float
    evidence: str
    rule: str = ""
    matched: str = ""


@dataclass(frozen=True, slots=True)
class CategoryHit:
    """A rule-based category (from the categories YAML) matched in a call."""

    category: str
    utterance_index: int
    start_s: float
    evidence: str


@dataclass(frozen=True, slots=True)
class SentimentSummary:
    """Per-call sentiment: per-speaker means and the customer's trajectory.

    ``customer_start``/``customer_end`` are the customer's mean scores over the first and last
    third of the call. Means are ``None`` when that speaker said nothing scorable.
    """

    customer_mean: float | None
    agent_mean: float | None
    customer_start: float | None
    customer_end: float | None
    trajectory: Trajectory


@dataclass(frozen=True, slots=True)
class EffortScore:
    """Customer effort of one call, 0-100, split into "do" and "feel" effort.

    ``components`` lists ``(factor, points)`` pairs that add up to ``index``.
    """

    index: float
    do_effort: float
    feel_effort: float
    components: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class TopicWeight:
    """A call's weight on one topic of the current topic model."""

    topic_id: int
    label: str
    weight: float


@dataclass(frozen=True, slots=True)
class CallAnalysis:
    """Everything the text-mining stage derives from one transcript."""

    utterances: tuple[UtteranceAnalysis, ...]
    tags: tuple[TagHit, ...]
    categories: tuple[CategoryHit, ...]
    sentiment: SentimentSummary
    effort: EffortScore
    document_tokens: tuple[str, ...] = ()
    pii_count: int = 0
    rules_version: str = ""
    #: Utterances withheld (［非表示］) because a PII detector failed on them: redaction fails closed.
    redaction_errors: int = 0
