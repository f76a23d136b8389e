"""Learn how the bundled Whisper model misspells support vocabulary: the respelling lexicon's source.

Two steps, in two environments (the TTS lives in its own venv, see samples/generate.py)::

    .venv-tts/bin/python bench/vocabulary_probe.py render --shard 0/2   # and 1/2 beside it
    .venv/bin/python bench/vocabulary_probe.py confusions --write

``render`` says every word of ``bench/data/vocabulary_probe.yaml`` in two carrier sentences,
rotating the five kokoro voices, into ``var/probe/`` (24 kHz WAV + ``sentences.jsonl``).
``confusions`` transcribes each sentence with koe's model and settings (beam 5, Japanese), aligns
it with the sentence character by character (bench/cer.py), and takes what the model wrote where
the word was. A different spelling becomes a lexicon entry when it is safe to replace everywhere
(``textmining.respell.is_safe_misspelling``):

- at least two characters, no digits, latin or punctuation, and neither inside the word nor
  containing it (alignment edges: ご請求 for 請求);
- not a word in its own right: UniDic does not read it as one known word (改善 for 回線, 変装 for
  返送, 講座 for 口座 are real words and are never replaced);
- kana-only spellings only when they are the word's own reading (しはらい for 支払い): katakana
  ones of at least three characters (respell matches them only as a whole katakana run),
  hiragana ones of at least four (しんさ is inside しんさい);
- not in the probe file's ``exclude`` list (real phrases found by reviewing the output).

``--write`` puts the entries between the ``probe:start``/``probe:end`` markers of
``textmining/lexicon/respell.tsv``; the hand-checked entries above the markers stay.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import wave
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PROBE_PATH = ROOT / "bench" / "data" / "vocabulary_probe.yaml"
OUT_DIR = ROOT / "var" / "probe"
LEXICON_PATH = ROOT / "textmining" / "lexicon" / "respell.tsv"
VOICES = ("jf_alpha", "jm_kumo", "jf_nezumi", "jf_tebukuro", "jf_gongitsune")
START, END = "# probe:start", "# probe:end"


def sentences(path: Path = PROBE_PATH) -> list[dict[str, Any]]:
    """Every probe sentence with the word to check and its voice, in a fixed order."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    carriers: list[str] = data["carriers"]
    out: list[dict[str, Any]] = []
    for i, word in enumerate(data["nouns"].split()):
        for k in (i % len(carriers), (i + 1) % len(carriers)):
            out.append({"text": carriers[k].format(w=word), "word": word})
    for line in data["phrases"]:
        text, _, word = (part.strip() for part in line.partition("|"))
        out.append({"text": text, "word": word})
    for n, item in enumerate(out):
        item["id"] = f"p{n:04d}"
        item["voice"] = VOICES[n % len(VOICES)]
    return out


def render(shard: int, shards: int) -> None:
    from samples.generate import CACHE_DIR, SAMPLE_RATE, Synthesizer

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    synth = Synthesizer(CACHE_DIR)
    items = sentences()
    for n, item in enumerate(items):
        if n % shards != shard:
            continue
        audio = synth.speak(item["text"], voice=item["voice"], speed=1.0)
        pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
        with wave.open(str(OUT_DIR / f"{item['id']}.wav"), "wb") as f:
            f.setnchannels(1)
            f.setsampwidth(2)
            f.setframerate(SAMPLE_RATE)
            f.writeframes(pcm.tobytes())
        print(f"{item['id']} {item['voice']} {item['text']}", flush=True)
    (OUT_DIR / "sentences.jsonl").write_text(
        "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8"
    )


def heard_as(reference: str, hypothesis: str, word: str) -> str | None:
    """What the hypothesis has where the reference has ``word`` (both normalised), or None.

    When the carrier sentence came out intact, the word is what lies between its two halves;
    otherwise the characters aligned to the word (bench/cer.py's alignment).
    """
    from cer import align

    start = reference.find(word)
    if start < 0:
        return None
    end = start + len(word)
    before, after = reference[:start], reference[end:]
    if hypothesis.startswith(before) and hypothesis.endswith(after) and len(hypothesis) >= len(before) + len(after):
        return hypothesis[len(before) : len(hypothesis) - len(after)]
    out, ref_index = [], 0
    for op, _ref_char, hyp_char in align(reference, hypothesis):
        if op == "I":
            if start < ref_index < end:
                out.append(hyp_char)
            continue
        if start <= ref_index < end and op in ("=", "S"):
            out.append(hyp_char)
        ref_index += 1
    return "".join(out)


def confusions(write: bool) -> int:
    from cer import normalise
    from faster_whisper.audio import decode_audio

    from koe.settings import load_settings
    from textmining.respell import is_safe_misspelling
    from textmining.tokens import load_tagger
    from transcribe.model import ModelOptions, load_whisper_model

    items = [json.loads(line) for line in (OUT_DIR / "sentences.jsonl").read_text(encoding="utf-8").splitlines()]
    settings = load_settings()
    model = load_whisper_model(ModelOptions.from_settings(settings))
    tagger = load_tagger()
    cache_path = OUT_DIR / "hypotheses.json"
    cache = json.loads(cache_path.read_text(encoding="utf-8")) if cache_path.exists() else {}
    excluded = set(yaml.safe_load(PROBE_PATH.read_text(encoding="utf-8")).get("exclude") or ())
    found: dict[str, str] = {}
    right = wrong_total = rejected = 0
    for item in items:
        key = f"{settings.whisper_model}|{item['id']}|{item['text']}|{item['voice']}"
        if key not in cache:
            audio = decode_audio(str(OUT_DIR / f"{item['id']}.wav"), sampling_rate=16000)
            segments, _ = model.transcribe(
                audio, language="ja", beam_size=settings.beam_size, condition_on_previous_text=False
            )
            cache[key] = "".join(s.text for s in segments)
        hypothesis = cache[key]
        word = normalise(item["word"])
        heard = heard_as(normalise(item["text"]), normalise(hypothesis), word)
        if heard == word:
            right += 1
            continue
        wrong_total += 1
        safe = heard and heard not in excluded and is_safe_misspelling(heard, item["word"], normalise(hypothesis), tagger)
        verdict = "entry" if safe else "left"
        if verdict == "entry" and heard:
            found.setdefault(heard, item["word"])
        else:
            rejected += 1
        print(f"{verdict:5s} {item['word']}: {heard!r:16s} in {hypothesis!r}")
    cache_path.write_text(json.dumps(cache, ensure_ascii=False, indent=0), encoding="utf-8")
    print(f"\n{right} sentences with the word right, {wrong_total} wrong: {len(found)} lexicon entries, {rejected} left alone")
    if write:
        write_entries(found)
    return 0


def write_entries(found: dict[str, str], path: Path = LEXICON_PATH) -> None:
    """Replace the probe's block of the lexicon with ``found`` (misspelling -> word)."""
    text = path.read_text(encoding="utf-8")
    outside = re.sub(rf"{START}.*?{END}", "", text, flags=re.S)
    manual = {line.split("\t")[0] for line in outside.splitlines() if "\t" in line and not line.startswith("#")}
    rows = [f"{wrong}\t{word}\tprobe" for wrong, word in sorted(found.items(), key=lambda kv: (kv[1], kv[0])) if wrong not in manual]
    block = "\n".join([START, *rows, END])
    if START in text:
        text = re.sub(rf"{START}.*?{END}", lambda _m: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")
    print(f"wrote {len(rows)} probe entries to {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="step", required=True)
    render_parser = sub.add_parser("render", help="say the probe sentences (TTS venv)")
    render_parser.add_argument("--shard", default="0/1", help="N/M: render every M-th sentence from the N-th")
    confusions_parser = sub.add_parser("confusions", help="transcribe them and list the misspellings")
    confusions_parser.add_argument("--write", action="store_true", help="update textmining/lexicon/respell.tsv")
    args = parser.parse_args(argv)
    if args.step == "render":
        shard, shards = (int(x) for x in args.shard.split("/"))
        render(shard, shards)
        return 0
    return confusions(args.write)


if __name__ == "__main__":
    raise SystemExit(main())
