"""Character error rate of koe's transcripts of the sample calls, per call and per speaker.

    .venv/bin/python bench/cer.py                      # transcribe samples/calls with bundled-base
    .venv/bin/python bench/cer.py --from var/bench/transcripts.json   # reuse bench/transcribe.py's run

CER = Levenshtein distance (substitutions + deletions + insertions, in characters) / reference
characters, after NFKC normalisation (full/half width), case folding and removing everything that
is not a letter or digit (punctuation, spaces, symbols). Per speaker, the speaker's utterances are joined
in time order on both sides; mono calls (every utterance ``unknown``) are scored on the whole
call only. The "all" row sums edits and reference characters over the calls (micro average).
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_CALLS = ROOT / "samples" / "calls"


def normalise(text: str) -> str:
    """NFKC, case-folded text with only letters and digits kept."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def edit_distance(ref: str, hyp: str) -> int:
    """Levenshtein distance between two strings, in characters."""
    if len(ref) < len(hyp):
        ref, hyp = hyp, ref
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i]
        for j, h in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1]


def joined(utterances: list[dict[str, Any]], speaker: str | None) -> str:
    ordered = sorted(utterances, key=lambda u: u["start_s"])
    return normalise("".join(u["text"] for u in ordered if speaker is None or u["speaker"] == speaker))


def score_call(reference: list[dict[str, Any]], hypothesis: list[dict[str, Any]], separated: bool) -> dict[str, tuple[int, int]]:
    """``{"all"|"agent"|"customer": (edits, reference characters)}`` for one call."""
    scores = {"all": _pair(joined(reference, None), joined(hypothesis, None))}
    if separated:
        for speaker in ("agent", "customer"):
            scores[speaker] = _pair(joined(reference, speaker), joined(hypothesis, speaker))
    return scores


def _pair(ref: str, hyp: str) -> tuple[int, int]:
    return edit_distance(ref, hyp), len(ref)


def transcribe_samples(calls_dir: Path) -> dict[str, dict[str, Any]]:
    """Transcribe every call with a reference, as koe's stage does with default settings."""
    from koe.settings import load_settings
    from transcribe.engine import TranscribeOptions, transcribe_call
    from transcribe.model import ModelOptions, load_whisper_model

    settings = load_settings()
    model = load_whisper_model(ModelOptions.from_settings(settings))
    out = {}
    for ref_path in sorted((calls_dir / "reference").glob("*.json")):
        ref = json.loads(ref_path.read_text(encoding="utf-8"))
        options = TranscribeOptions(agent_channel=ref.get("agent_channel"), language=settings.language, beam_size=settings.beam_size)
        transcript = transcribe_call(calls_dir / ref["audio_path"], model=model, options=options)
        out[ref["call_id"]] = transcript_record(transcript)
        print(f"transcribed {ref['call_id']}", file=sys.stderr)
    return out


def transcript_record(transcript: Any) -> dict[str, Any]:
    """A JSON-able form of a Transcript (what bench/transcribe.py saves)."""
    return {
        "speakers_separated": transcript.speakers_separated,
        "duration_s": transcript.duration_s,
        "utterances": [
            {"speaker": u.speaker, "start_s": u.start_s, "end_s": u.end_s, "text": u.text, "confidence": u.confidence}
            for u in transcript.utterances
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=Path, default=DEFAULT_CALLS, help="folder with reference/*.json and the audio")
    parser.add_argument("--from", dest="source", type=Path, help="transcripts JSON written by bench/transcribe.py")
    parser.add_argument("--json", type=Path, help="also write the scores here")
    args = parser.parse_args(argv)

    hypotheses = json.loads(args.source.read_text(encoding="utf-8")) if args.source else transcribe_samples(args.calls)
    totals: dict[str, list[int]] = {"all": [0, 0], "agent": [0, 0], "customer": [0, 0]}
    rows = []
    for ref_path in sorted((args.calls / "reference").glob("*.json")):
        ref = json.loads(ref_path.read_text(encoding="utf-8"))
        hyp = hypotheses.get(ref["call_id"])
        if hyp is None:
            print(f"{ref['call_id']}: no transcript, skipped", file=sys.stderr)
            continue
        scores = score_call(ref["utterances"], hyp["utterances"], hyp["speakers_separated"])
        for key, (edits, chars) in scores.items():
            totals[key][0] += edits
            totals[key][1] += chars
        rows.append((ref["call_id"], scores))

    def cell(score: tuple[int, int] | None) -> str:
        return "   n/a" if score is None or score[1] == 0 else f"{100 * score[0] / score[1]:5.1f}%"

    print(f"{'call':<10} {'all':>7} {'agent':>7} {'customer':>9}   ref chars")
    for call_id, scores in rows:
        print(f"{call_id:<10} {cell(scores['all']):>7} {cell(scores.get('agent')):>7} {cell(scores.get('customer')):>9}   {scores['all'][1]}")
    print(
        f"{'all':<10} {cell(tuple(totals['all'])):>7} {cell(tuple(totals['agent'])):>7} "  # type: ignore[arg-type]
        f"{cell(tuple(totals['customer'])):>9}   {totals['all'][1]}"  # type: ignore[arg-type]
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"calls": dict(rows), "totals": totals}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
