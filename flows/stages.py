"""The stages as the flows call them: one place where settings become stage options.

Heavy resources (the Whisper model, the text-mining tagger and rules) are loaded once per process by
the stages' ``load_*`` functions and never travel through task parameters or results.
"""

from __future__ import annotations

from dataclasses import dataclass

from koe.records import CallAnalysis, CallMetrics, CallSource, Transcript
from koe.settings import Settings


@dataclass(frozen=True, slots=True)
class CallResult:
    """What the stages produced for one call, ready to be stored."""

    transcript: Transcript
    metrics: CallMetrics | None
    analysis: CallAnalysis


def transcribe_source(source: CallSource, settings: Settings) -> Transcript:
    """The call's transcript: imported as given, or transcribed from its recording."""
    if source.transcript is not None:
        return source.transcript
    from transcribe.engine import TranscribeOptions, transcribe_call
    from transcribe.model import ModelOptions, load_whisper_model

    assert source.audio_path is not None
    model = load_whisper_model(ModelOptions.from_settings(settings))
    options = TranscribeOptions(
        agent_channel=source.agent_channel,
        language=settings.language,
        beam_size=settings.beam_size,
    )
    return transcribe_call(source.audio_path, model=model, options=options)


def measure(transcript: Transcript) -> CallMetrics:
    """Conversation metrics, with speaking rates from fugashi's kana readings."""
    from transcribe.metrics import compute_metrics

    from textmining.tokens import count_morae

    return compute_metrics(transcript, count_morae=count_morae)


def analyse(transcript: Transcript, metrics: CallMetrics | None, settings: Settings) -> CallAnalysis:
    """Text mining of one transcript with the configured rules."""
    from textmining.analyse import TextMiningOptions, analyse_call, load_text_mining

    resources = load_text_mining(
        TextMiningOptions(tag_rules=settings.tag_rules, categories=settings.categories)
    )
    return analyse_call(transcript, metrics, resources=resources)


def run_stages(source: CallSource, settings: Settings) -> CallResult:
    """Transcribe (unless imported), measure and analyse one call."""
    transcript = transcribe_source(source, settings)
    metrics = measure(transcript)
    return CallResult(transcript, metrics, analyse(transcript, metrics, settings))
