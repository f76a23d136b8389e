"""PII redaction on the blind PII probe sets: recall per PII type, false redactions on hard negatives.

Each call runs through the text-mining stage as the pipeline runs it (``analyse_call``); what a
manager or CSM reads is each utterance's ``redacted_text``. A PII string *leaks* when it still
appears there (after the same normalisation, spaces ignored); a hard negative (agent's name, price,
product number, a date that is not a birthday, ...) is *falsely redacted* when it no longer does.
Only counts are printed, never the sets' text.

Run: ``.venv/bin/python bench/privacy.py``. Target (issue 16): recall 1.00 on every type, false
redaction <= 2 %.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from blindsets import load_sets, to_transcript

from textmining.analyse import TextMiningOptions, analyse_call, load_text_mining
from textmining.normalise import normalise_text


def _squash(text: str) -> str:
    return "".join(normalise_text(text).split())


def main() -> None:
    sets = load_sets("pii")
    if not sets:
        sys.exit("no blind PII sets under bench/data/blind/pii-*/calls.jsonl")
    resources = load_text_mining(TextMiningOptions())
    caught, leaked = Counter[str](), Counter[str]()
    split_caught = split_total = 0
    kept, removed = Counter[str](), Counter[str]()
    by_set: dict[str, tuple[int, int]] = {}
    for name, calls in sets.items():
        set_caught = set_total = 0
        for call in calls:
            analysis = analyse_call(to_transcript(call), None, resources=resources)
            for utterance, mined in zip(call["utterances"], analysis.utterances, strict=True):
                shown = _squash(mined.redacted_text)
                for item in utterance.get("pii") or []:
                    leak = _squash(item["text"]) in shown
                    (leaked if leak else caught)[item["type"]] += 1
                    set_total += 1
                    set_caught += not leak
                    if item.get("split"):
                        split_total += 1
                        split_caught += not leak
                for item in utterance.get("negatives") or []:
                    (kept if _squash(item["text"]) in shown else removed)[item["kind"]] += 1
        by_set[name] = (set_caught, set_total)
    total = sum(caught.values()) + sum(leaked.values())
    print(f"blind PII sets: {', '.join(f'{n} ({len(c)} calls)' for n, c in sets.items())}")
    print(f"\n{'PII type':14s} {'n':>5s} {'recall':>7s}")
    for kind in sorted(set(caught) | set(leaked)):
        n = caught[kind] + leaked[kind]
        print(f"{kind:14s} {n:5d} {caught[kind] / n:7.3f}")
    print(f"{'all':14s} {total:5d} {sum(caught.values()) / max(1, total):7.3f}  (target 1.00 on every type)")
    print(f"split over two utterances: {split_caught}/{split_total} parts redacted")
    for name, (c, n) in by_set.items():
        print(f"  {name}: recall {c / max(1, n):.3f} on {n}")
    negatives = sum(kept.values()) + sum(removed.values())
    print(f"\n{'negative kind':14s} {'n':>5s} {'falsely redacted':>17s}")
    for kind in sorted(set(kept) | set(removed)):
        n = kept[kind] + removed[kind]
        print(f"{kind:14s} {n:5d} {removed[kind] / n:17.3f}")
    rate = sum(removed.values()) / max(1, negatives)
    print(f"{'all':14s} {negatives:5d} {rate:17.3f}  (target <= 0.02)")
    print(f"\nsummary: PII recall {sum(caught.values()) / max(1, total):.3f} on {total}; false redaction {rate:.3f} on {negatives}")


if __name__ == "__main__":
    main()
