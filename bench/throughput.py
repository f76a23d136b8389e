"""Throughput per core: transcription (bundled Whisper model) and transcript-only analysis.

    .venv/bin/python bench/throughput.py                 # both, one core each
    .venv/bin/python bench/throughput.py --skip-transcribe --analysis-calls 300

Transcription: every bundled sample call (samples/calls) through the same stage the flow runs
(``flows.pipeline_steps.transcribe_source``) with ``KOE_CPU_THREADS=1``, after one warm-up call; reported as
audio minutes per wall minute on one core. Analysis: transcript calls (metrics + text mining, as a
transcript JSONL import runs) in one process; reported as calls per second on one core. The model
and tagger are loaded before timing starts (once per worker process in production).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the transcript generator lives with the flow tests


def bench_analysis(calls: int) -> dict[str, Any]:
    from flows.pipeline_steps import analyse, measure
    from koe.settings import get_settings
    from koe.transcripts import parse_transcript_line
    from tests.flows.conftest import transcript_line

    settings = get_settings()
    sources = [
        parse_transcript_line(json.dumps(transcript_line(i), ensure_ascii=False), f"bench:{i}", str(i))
        for i in range(calls)
    ]
    warm = sources[0].transcript
    assert warm is not None
    analyse(warm, measure(warm), settings)
    start = time.perf_counter()
    utterances = 0
    for source in sources:
        assert source.transcript is not None
        analyse(source.transcript, measure(source.transcript), settings)
        utterances += len(source.transcript.utterances)
    elapsed = time.perf_counter() - start
    return {"calls": calls, "utterances": utterances, "wall_s": round(elapsed, 2), "calls_per_s": round(calls / elapsed, 1)}


def bench_transcription(max_calls: int) -> dict[str, Any]:
    from flows.pipeline_steps import transcribe_source
    from koe.settings import get_settings
    from koe.sources import SourceOptions, discover

    settings = get_settings()
    found = discover(REPO / "samples" / "calls", SourceOptions(default_agent_channel=settings.default_agent_channel))
    sources = found.sources[:max_calls]
    transcribe_source(sources[0], settings)  # loads the model; not timed
    start = time.perf_counter()
    audio_s = 0.0
    for source in sources:
        audio_s += transcribe_source(source, settings).duration_s
    elapsed = time.perf_counter() - start
    return {
        "calls": len(sources),
        "audio_min": round(audio_s / 60, 2),
        "wall_min": round(elapsed / 60, 2),
        "audio_min_per_wall_min_per_core": round(audio_s / elapsed, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--analysis-calls", type=int, default=200)
    parser.add_argument("--transcribe-calls", type=int, default=6)
    parser.add_argument("--skip-transcribe", action="store_true")
    args = parser.parse_args()
    # One core: CTranslate2 and the BLAS libraries would otherwise use every core.
    os.environ.setdefault("KOE_CPU_THREADS", "1")
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    from koe.settings import get_settings
    from models.db import ensure_database

    ensure_database(get_settings().resolved_database_url)
    report: dict[str, Any] = {"cores": 1, "cpu_count": os.cpu_count(), "analysis": bench_analysis(args.analysis_calls)}
    if not args.skip_transcribe:
        report["transcription"] = bench_transcription(args.transcribe_calls)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
