"""Blind evaluation sets (bench/data/blind/<name>/calls.jsonl): loading, and the shared scoring helpers.

The sets were written by helpers who never saw koe's code, rules or earlier sets (each set's README
says how). Benchmarks print aggregates only, never a set's text: whoever tunes koe must not read it.
A set whose errors were read becomes a development set: move it out of bench/data/blind/ and say so.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from koe.records import CallMetrics, Interval, Transcript, Utterance  # noqa: E402

BLIND = Path(__file__).parent / "data" / "blind"
#: A silent gap this long after an agent utterance is a hold (the sets carry no audio; the
#: transcribe stage measures holds from the recording).
HOLD_GAP_S = 30.0


def load_sets(kind: str) -> dict[str, list[dict[str, Any]]]:
    """Blind sets of one kind: ``"calls"`` (reason, tags, sentiment) or ``"pii"`` (PII probes).

    ``KOE_BLIND_SETS`` (comma-separated set names) limits the sets, so that whoever tunes a
    component can hold sets back for a final, untouched measurement.
    """
    out: dict[str, list[dict[str, Any]]] = {}
    only = {n.strip() for n in os.environ.get("KOE_BLIND_SETS", "").split(",") if n.strip()}
    for path in sorted(BLIND.glob("*/calls.jsonl")):
        if only and path.parent.name not in only:
            continue
        calls = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        is_pii = path.parent.name.startswith("pii-")
        if calls and is_pii == (kind == "pii"):
            out[path.parent.name] = calls
    return out


def to_transcript(call: dict[str, Any]) -> Transcript:
    """The call as koe's ``Transcript`` (an imported transcript: speakers known, no audio)."""
    utts = tuple(
        Utterance(u["speaker"], float(u["start_s"]), float(u["end_s"]), u["text"]) for u in call["utterances"]
    )
    return Transcript(utterances=utts, duration_s=utts[-1].end_s if utts else 0.0, speakers_separated=True)


def gap_metrics(t: Transcript) -> CallMetrics:
    """Call metrics with holds taken from long silent gaps after agent utterances."""
    holds = tuple(
        Interval(a.end_s, b.start_s, "agent")
        for a, b in zip(t.utterances, t.utterances[1:], strict=False)
        if a.speaker == "agent" and b.start_s - a.end_s >= HOLD_GAP_S
    )
    talk = {s: sum(u.duration_s for u in t.utterances if u.speaker == s) for s in ("agent", "customer")}
    return CallMetrics(
        duration_s=t.duration_s, talk_s_agent=talk["agent"], talk_s_customer=talk["customer"], talk_s_unknown=0.0,
        talk_ratio_agent=talk["agent"] / max(1e-9, talk["agent"] + talk["customer"]), silence_count=len(holds),
        silence_s=sum(h.duration_s for h in holds), longest_silence_s=max((h.duration_s for h in holds), default=0.0),
        silence_ratio=0.0, overtalk_count=0, overtalk_s=0.0, hold_count=len(holds),
        hold_s=sum(h.duration_s for h in holds), turn_count=len(t.utterances), speaking_rate_agent=None,
        speaking_rate_customer=None, holds=holds,
    )


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall and F1 (1.0 for an empty denominator)."""
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)
