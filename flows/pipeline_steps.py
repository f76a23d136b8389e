"""The pipeline's steps for one call, as the flows run them: transcribe, measure, analyse.

The one place where settings become stage options: :func:`run_stages` turns a ``CallSource`` into a
:class:`CallResult` ready to be stored.

Heavy resources (the Whisper model, the text-mining tagger and rules) are loaded once per process by
the stages' ``load_*`` functions and never travel through task parameters or results.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from koe.errors import InputError, NoSpeechError
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
        # A stored Whisper transcript being reprocessed gets the current respelling rules too;
        # imported transcripts are returned as given (respell_transcript leaves them alone).
        return _written_form(source.transcript, settings)
    from transcribe.engine import TranscribeOptions, transcribe_call
    from transcribe.model import ModelOptions, load_whisper_model

    if source.audio_path is None:
        raise InputError(f"{source.origin}: call {source.call_id} has neither a transcript nor a recording; give one")
    model = load_whisper_model(ModelOptions.from_settings(settings))
    options = TranscribeOptions(
        agent_channel=source.agent_channel,
        language=settings.language,
        beam_size=settings.beam_size,
        hotwords=settings.vocabulary,
    )
    transcript = _written_form(transcribe_call(source.audio_path, model=model, options=options), settings)
    if not transcript.utterances:
        # Silence, hum or line noise only: the hallucination guards kept Whisper from inventing text.
        # Stored as a zero-talk call it would count as a real contact with 100% silence in every
        # report, so it fails here, visibly, like any other unusable recording.
        raise NoSpeechError(
            f"{source.audio_path}: no speech found in {transcript.duration_s:.1f} s of audio (silence or "
            "noise only); check that this is the right recording and that the agent and customer "
            "channels were captured, then export it again"
        )
    return transcript


def _written_form(transcript: Transcript, settings: Settings) -> Transcript:
    if not settings.respell:
        return transcript
    from textmining.respell import load_respeller, respell_transcript

    return respell_transcript(transcript, load_respeller())


def measure(transcript: Transcript) -> CallMetrics:
    """Conversation metrics, with speaking rates from fugashi's kana readings."""
    from textmining.tokens import count_morae
    from transcribe.metrics import compute_metrics

    return compute_metrics(transcript, count_morae=count_morae)


@lru_cache(maxsize=4)
def _text_mining(options: Any, scorer_version: str | None, url: str) -> Any:
    from models.db import transaction
    from models.trained_models import load_trained_model
    from textmining.analyse import load_text_mining
    from textmining.sentiment_model import TrainedSentimentScorer

    scorer = None
    if scorer_version is not None:
        with transaction(url) as session:
            stored = load_trained_model(session, "sentiment", scorer_version)
        if stored is not None:
            scorer = TrainedSentimentScorer.load(stored.blob)
    return load_text_mining(options, scorer=scorer)


def load_analysis_resources(settings: Settings) -> Any:
    """Text-mining resources for ``settings``, loaded once per process and per sentiment model.

    A sentiment classifier trained with ``koe sentiment train`` replaces the lexicon scorer as soon
    as it is stored; the check is one cheap query.
    """
    from models.db import transaction
    from models.trained_models import current_model_version
    from textmining.analyse import TextMiningOptions

    url = settings.resolved_database_url
    with transaction(url) as session:
        version = current_model_version(session, "sentiment")
    return _text_mining(TextMiningOptions.from_settings(settings), version, url)


def analyse(transcript: Transcript, metrics: CallMetrics | None, settings: Settings) -> CallAnalysis:
    """Text mining of one transcript with the configured rules and sentiment model."""
    from textmining.analyse import analyse_call

    return analyse_call(transcript, metrics, resources=load_analysis_resources(settings))


def run_stages(source: CallSource, settings: Settings) -> CallResult:
    """Transcribe (unless imported), measure and analyse one call."""
    transcript = transcribe_source(source, settings)
    metrics = measure(transcript)
    return CallResult(transcript, metrics, analyse(transcript, metrics, settings))
