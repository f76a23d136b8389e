"""Character error rate of koe's transcripts of the sample calls, per call and per speaker.

    .venv/bin/python bench/cer.py                      # transcribe samples/calls with bundled-base
    .venv/bin/python bench/cer.py --from var/bench/transcripts.json   # reuse bench/transcribe.py's run
    .venv/bin/python bench/cer.py --save var/bench/cer.json --errors 5 --reading  # keep the run; diagnose
    .venv/bin/python bench/cer.py --set beam_size=1 --set vad.speech_pad_ms=400   # try other options
    .venv/bin/python bench/cer.py --calls bench/data/heldout2/calls   # calls koe was not tuned on

What is scored is what koe stores: Whisper's text put in written form by
:mod:`textmining.respell` (``KOE_RESPELL``'s default); ``--raw`` scores Whisper's text as it came
out. Saved transcripts (``--save``/``--from``) are always Whisper's raw text.

CER = Levenshtein distance (substitutions + deletions + insertions, in characters) / reference
characters, after NFKC normalisation (full/half width), case folding and removing everything that
is not a letter or digit (punctuation, spaces, symbols). Per speaker, the speaker's utterances are joined
in time order on both sides; mono calls (every utterance ``unknown``) are scored on the whole
call only. The "all" row sums edits and reference characters over the calls (micro average).

``--errors N`` prints, per call and speaker, the N error regions with the most edits, as aligned
reference/hypothesis text with a little context, counts substitutions, deletions and
insertions per speaker, and sums the edits by a rough kind (:func:`classify`: spelled-out
address, same reading written differently, different sound, deletion at an utterance edge).
``--reading`` adds a second table scored on katakana pronunciations: a diagnostic of how much of
the CER is orthography (kanji choice, kana, number form), never a replacement for the CER.
``--set`` overrides a field of ``TranscribeOptions`` (``vad.`` and
``guards.`` reach the nested VAD and guard options), so decoding, VAD and guard settings can be
measured on the samples without editing the stage.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_CALLS = ROOT / "samples" / "calls"
SPEAKERS = ("agent", "customer")


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


def align(ref: str, hyp: str) -> list[tuple[str, str, str]]:
    """A minimal edit script: ``(op, ref_char, hyp_char)`` with op ``=``, ``S``, ``D`` or ``I``.

    Its number of non-``=`` steps equals :func:`edit_distance`. Ties prefer substitutions, then
    deletions, so an error region reads as "this was heard as that".
    """
    rows, cols = len(ref) + 1, len(hyp) + 1
    cost = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        cost[i][0] = i
    for j in range(cols):
        cost[0][j] = j
    for i in range(1, rows):
        for j in range(1, cols):
            cost[i][j] = min(cost[i - 1][j] + 1, cost[i][j - 1] + 1, cost[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]))
    steps: list[tuple[str, str, str]] = []
    i, j = len(ref), len(hyp)
    while i or j:
        if i and j and cost[i][j] == cost[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            steps.append(("=" if ref[i - 1] == hyp[j - 1] else "S", ref[i - 1], hyp[j - 1]))
            i, j = i - 1, j - 1
        elif i and cost[i][j] == cost[i - 1][j] + 1:
            steps.append(("D", ref[i - 1], ""))
            i -= 1
        else:
            steps.append(("I", "", hyp[j - 1]))
            j -= 1
    return steps[::-1]


@dataclasses.dataclass(frozen=True, slots=True)
class ErrorRegion:
    """A run of edits (matches of fewer than ``join`` characters in between are part of it).

    Attributes:
        edits: Substitutions + deletions + insertions in the region.
        ref: Reference text of the region; ``hyp``: what was transcribed instead.
        before, after: Matching context on each side.
        ref_start: Offset of the region in the reference text, in characters.

    """

    edits: int
    ref: str
    hyp: str
    before: str
    after: str
    ref_start: int


def error_regions(steps: list[tuple[str, str, str]], *, join: int = 2, context: int = 6) -> list[ErrorRegion]:
    """Group an edit script into error regions, in text order."""
    regions: list[ErrorRegion] = []
    index = 0
    while index < len(steps):
        if steps[index][0] == "=":
            index += 1
            continue
        end, last_error = index, index
        while end < len(steps):
            if steps[end][0] != "=":
                last_error = end
            elif end - last_error > join:
                break
            end += 1
        span = steps[index : last_error + 1]
        regions.append(
            ErrorRegion(
                edits=sum(op != "=" for op, _, _ in span),
                ref="".join(r for _, r, _ in span),
                hyp="".join(h for _, _, h in span),
                before="".join(r for _, r, _ in steps[max(0, index - context) : index]),
                after="".join(r for _, r, _ in steps[last_error + 1 : last_error + 1 + context]),
                ref_start=sum(bool(r) for _, r, _ in steps[:index]),
            )
        )
        index = last_error + 1
    return regions


def joined(utterances: list[dict[str, Any]], speaker: str | None) -> str:
    ordered = sorted(utterances, key=lambda u: u["start_s"])
    return normalise("".join(u["text"] for u in ordered if speaker is None or u["speaker"] == speaker))


def score_call(reference: list[dict[str, Any]], hypothesis: list[dict[str, Any]], separated: bool) -> dict[str, tuple[int, int]]:
    """``{"all"|"agent"|"customer": (edits, reference characters)}`` for one call."""
    scores = {"all": _pair(joined(reference, None), joined(hypothesis, None))}
    if separated:
        for speaker in SPEAKERS:
            scores[speaker] = _pair(joined(reference, speaker), joined(hypothesis, speaker))
    return scores


def score_call_reading(
    reference: list[dict[str, Any]], hypothesis: list[dict[str, Any]], separated: bool
) -> dict[str, tuple[int, int]]:
    """Like :func:`score_call` on katakana pronunciations (:func:`reading`): a diagnostic, not the CER."""
    speakers: tuple[str | None, ...] = (None, *SPEAKERS) if separated else (None,)
    return {
        speaker or "all": _pair(reading(joined(reference, speaker)), reading(joined(hypothesis, speaker)))
        for speaker in speakers
    }


def _pair(ref: str, hyp: str) -> tuple[int, int]:
    return edit_distance(ref, hyp), len(ref)


def transcribe_options(agent_channel: int | None, settings: Any, overrides: Sequence[str]) -> Any:
    """koe's default ``TranscribeOptions`` for a sample call, with ``--set`` overrides applied."""
    from transcribe.engine import TranscribeOptions

    options = TranscribeOptions(agent_channel=agent_channel, language=settings.language, beam_size=settings.beam_size)
    for item in overrides:
        name, _, raw = item.partition("=")
        value: Any = json.loads(raw) if raw[:1] in "-0123456789[{tfn" else raw
        if "." in name:
            group, field = name.split(".", 1)
            nested = dataclasses.replace(getattr(options, group), **{field: value})
            options = dataclasses.replace(options, **{group: nested})
        else:
            options = dataclasses.replace(options, **{name: value})
    return options


def transcribe_samples(
    calls_dir: Path, overrides: Sequence[str] = (), only: Sequence[str] = ()
) -> dict[str, dict[str, Any]]:
    """Transcribe every call with a reference, as koe's stage does with default settings."""
    from koe.settings import load_settings
    from transcribe.engine import transcribe_call
    from transcribe.model import ModelOptions, load_whisper_model

    settings = load_settings()
    model = load_whisper_model(ModelOptions.from_settings(settings))
    out = {}
    for ref_path in sorted((calls_dir / "reference").glob("*.json")):
        ref = json.loads(ref_path.read_text(encoding="utf-8"))
        if only and ref["call_id"] not in only:
            continue
        options = transcribe_options(ref.get("agent_channel"), settings, overrides)
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


def respelled(record: dict[str, Any]) -> dict[str, Any]:
    """A saved Whisper transcript as koe stores it: in written form (:mod:`textmining.respell`)."""
    from koe.records import Transcript, Utterance
    from textmining.respell import load_respeller, respell_transcript

    transcript = Transcript(
        utterances=tuple(Utterance(**u) for u in record["utterances"]),
        duration_s=record["duration_s"],
        speakers_separated=record["speakers_separated"],
        source="whisper:saved",
    )
    return transcript_record(respell_transcript(transcript, load_respeller()))


#: Kinds of error region, in the order they are tested (see :func:`classify`).
KINDS = ("spelled-out", "same reading: number form", "same reading: kana/kanji", "same reading: other kanji",
         "edge deletion/insertion", "different sound")
_LATIN = re.compile(r"[a-z]")
_DIGIT = re.compile(r"[0-9〇一二三四五六七八九十百千万]")
_KANA = re.compile(r"^[\u3040-\u30ffー]*$")


@lru_cache(maxsize=1)
def _tagger() -> Any:
    import fugashi

    return fugashi.Tagger()


def reading(text: str, *, field: str = "pron") -> str:
    """Approximate reading of ``text`` in katakana (UniDic ``pron`` or ``kana``; digits read as numbers).

    Used only as a diagnostic: it tells "wrote the right sounds with other characters" (3 for 三,
    アオバ for あおば, 星球 for 請求) from "heard something else". UniDic guesses the readings of
    isolated fragments, so a few same-sound pairs still come out different.
    """
    from textmining.normalise import to_katakana
    from textmining.tokens import reading_of_number

    out = []
    for node in _tagger()(text):
        value = getattr(node.feature, field, None)
        surface = node.surface
        if value and value != "*":
            out.append(value)
        elif surface.isdigit():
            out.append(reading_of_number(surface))
        else:
            out.append(to_katakana(surface))
    return "".join(out).translate(_KANA_FOLD)


_KANA_FOLD = str.maketrans("ヲヅヂ", "オズジ")


def _same_reading(ref: str, hyp: str) -> bool:
    return any(reading(ref, field=field) == reading(hyp, field=field) for field in ("pron", "kana"))


def classify(region: ErrorRegion, at_edge: bool) -> str:
    """Which of :data:`KINDS` an error region is (a heuristic; read the regions themselves too).

    Args:
        region: The error region.
        at_edge: Whether it touches an utterance boundary of the reference.

    """
    if _LATIN.search(region.ref):
        return "spelled-out"  # the reference writes an address or ID in latin letters that the audio spells out
    if _same_reading(region.ref, region.hyp) or _same_reading(
        region.before + region.ref + region.after, region.before + region.hyp + region.after
    ):
        if _DIGIT.search(region.ref) or _DIGIT.search(region.hyp):
            return "same reading: number form"
        if _KANA.match(region.ref) or _KANA.match(region.hyp):
            return "same reading: kana/kanji"
        return "same reading: other kanji"
    if at_edge and (not region.ref or not region.hyp):
        return "edge deletion/insertion"
    return "different sound"


def print_errors(
    call_id: str, reference: list[dict[str, Any]], hyp: dict[str, Any], worst: int, kinds: Counter[str]
) -> None:
    """Print the ``worst`` error regions of each speaker of one call; add edits per kind to ``kinds``."""
    speakers: tuple[str | None, ...] = SPEAKERS if hyp["speakers_separated"] else (None,)
    for speaker in speakers:
        ordered = sorted(reference, key=lambda u: u["start_s"])
        edges, offset = {0}, 0
        for utterance in ordered:
            if speaker is None or utterance["speaker"] == speaker:
                offset += len(normalise(utterance["text"]))
                edges.add(offset)
        steps = align(joined(reference, speaker), joined(hyp["utterances"], speaker))
        counts = Counter(op for op, _, _ in steps if op != "=")
        regions = error_regions(steps)
        labelled = [(region, classify(region, _touches(region, edges))) for region in regions]
        for region, kind in labelled:
            kinds[kind] += region.edits
        print(f"\n{call_id} {speaker or 'whole call'}: S={counts['S']} D={counts['D']} I={counts['I']}")
        for region, kind in sorted(labelled, key=lambda item: -item[0].edits)[:worst]:
            text = f"{region.before}[{region.ref or '∅'} → {region.hyp or '∅'}]{region.after}"
            print(f"  {region.edits:3d}  {text:<44} {kind}")


def _touches(region: ErrorRegion, edges: set[int]) -> bool:
    """Whether the region starts or ends on an utterance boundary of the reference."""
    return region.ref_start in edges or region.ref_start + len(region.ref) in edges


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=Path, default=DEFAULT_CALLS, help="folder with reference/*.json and the audio")
    parser.add_argument("--from", dest="source", type=Path, help="transcripts JSON written by bench/transcribe.py or --save")
    parser.add_argument("--save", type=Path, help="write the transcripts here (for --from)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a TranscribeOptions field, e.g. beam_size=1 or vad.speech_pad_ms=400")
    parser.add_argument("--only", nargs="*", default=[], help="call ids to score (default: all)")
    parser.add_argument("--errors", type=int, default=0, metavar="N", help="print the N worst error regions per call and speaker")
    parser.add_argument("--reading", action="store_true", help="also print the reading CER (diagnostic, see reading())")
    parser.add_argument("--json", type=Path, help="also write the scores here")
    parser.add_argument("--raw", action="store_true",
                        help="score Whisper's text as it came out, without koe's written-form respelling")
    args = parser.parse_args(argv)

    if args.source:
        hypotheses = json.loads(args.source.read_text(encoding="utf-8"))
    else:
        hypotheses = transcribe_samples(args.calls, args.overrides, args.only)
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(json.dumps(hypotheses, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.overrides:
        print("options: " + " ".join(args.overrides))
    references = [json.loads(path.read_text(encoding="utf-8")) for path in sorted((args.calls / "reference").glob("*.json"))]
    pairs = []
    for ref in references:
        if args.only and ref["call_id"] not in args.only:
            continue
        if ref["call_id"] not in hypotheses:
            print(f"{ref['call_id']}: no transcript, skipped", file=sys.stderr)
            continue
        hypothesis = hypotheses[ref["call_id"]]
        pairs.append((ref, hypothesis if args.raw else respelled(hypothesis)))
    print("scored: " + ("Whisper's raw text (--raw)" if args.raw else "koe's transcripts (Whisper + textmining.respell)"))
    if args.errors:
        kinds: Counter[str] = Counter()
        for ref, hyp in pairs:
            print_errors(ref["call_id"], ref["utterances"], hyp, args.errors, kinds)
        print("\nedits by kind of error region (heuristic):")
        for kind in KINDS:
            print(f"  {kind:<28} {kinds[kind]:4d}")
        print()
    rows, totals = score_table(pairs, score_call)
    print_table(rows, totals, "ref chars")
    if args.reading:
        print("\nreading CER (diagnostic, NOT the issue's CER): both sides turned into katakana pronunciation first")
        print_table(*score_table(pairs, score_call_reading), "ref kana")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"calls": dict(rows), "totals": totals}, indent=1), encoding="utf-8")
    return 0


Scores = dict[str, tuple[int, int]]


def score_table(pairs: list[tuple[dict[str, Any], dict[str, Any]]], score: Any) -> tuple[list[tuple[str, Scores]], Scores]:
    """Per-call scores and their micro-averaged totals, with ``score`` (:func:`score_call` or a variant)."""
    totals: dict[str, list[int]] = {"all": [0, 0], "agent": [0, 0], "customer": [0, 0]}
    rows = []
    for ref, hyp in pairs:
        scores = score(ref["utterances"], hyp["utterances"], hyp["speakers_separated"])
        for key, (edits, chars) in scores.items():
            totals[key][0] += edits
            totals[key][1] += chars
        rows.append((ref["call_id"], scores))
    return rows, {key: (edits, chars) for key, (edits, chars) in totals.items()}


def print_table(rows: list[tuple[str, Scores]], totals: Scores, unit: str) -> None:
    def cell(score: tuple[int, int] | None) -> str:
        return "   n/a" if score is None or score[1] == 0 else f"{100 * score[0] / score[1]:5.1f}%"

    print(f"{'call':<10} {'all':>7} {'agent':>7} {'customer':>9}   {unit}")
    for call_id, scores in [*rows, ("all", totals)]:
        print(f"{call_id:<10} {cell(scores['all']):>7} {cell(scores.get('agent')):>7} {cell(scores.get('customer')):>9}   {scores['all'][1]}")


if __name__ == "__main__":
    raise SystemExit(main())
