"""Sentiment of customer utterances on the blind call sets: koe beside asari and oseti, same utterances.

Prints, per analyser, accuracy and macro F1 over negative / neutral / positive, and per-class F1.
koe is scored as the pipeline scores (``analyse_call``); the peers run in their own virtual
environment on exactly the same texts (bench/sentiment_peers.py), because their dependencies (MeCab
with IPADIC, an onnxruntime of their own) must not change koe's pinned speech stack. Only
aggregates are printed, never the sets' text.

Set-up of the peers, once:

    python3 -m venv .venv-peers
    .venv-peers/bin/pip install oseti==0.4.3.1 asari==0.2.0 ipadic==1.0.0
    # asari's onnxruntime needs the en_US.UTF-8 locale: apt-get install locales &&
    # localedef -i en_US -f UTF-8 en_US.UTF-8

Run: ``.venv/bin/python bench/sentiment.py`` (``KOE_BLIND_SETS`` picks sets; ``KOE_PEERS_PYTHON``
names another interpreter than .venv-peers/bin/python). Without the peers, koe alone is scored.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from blindsets import gap_metrics, load_sets, to_transcript
from sklearn.metrics import accuracy_score, f1_score

from textmining.analyse import TextMiningOptions, analyse_call, load_text_mining

LABELS = ["negative", "neutral", "positive"]
PEERS = Path(os.environ.get("KOE_PEERS_PYTHON", Path(__file__).resolve().parents[1] / ".venv-peers" / "bin" / "python"))


def main() -> None:
    sets = load_sets("calls")
    if not sets:
        sys.exit("no blind call sets under bench/data/blind/")
    resources = load_text_mining(TextMiningOptions())
    texts: list[str] = []
    gold: list[str] = []
    koe: list[str] = []
    for calls in sets.values():
        for call in calls:
            transcript = to_transcript(call)
            analysis = analyse_call(transcript, gap_metrics(transcript), resources=resources)
            for utterance, mined in zip(call["utterances"], analysis.utterances, strict=True):
                if utterance.get("sentiment") in LABELS and utterance["speaker"] == "customer":
                    texts.append(utterance["text"])
                    gold.append(utterance["sentiment"])
                    koe.append(mined.sentiment_label)
    predictions = {"koe": koe}
    if PEERS.exists():
        with tempfile.TemporaryDirectory() as tmp:
            source, target = Path(tmp) / "in.json", Path(tmp) / "out.json"
            source.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
            subprocess.run([str(PEERS), str(Path(__file__).with_name("sentiment_peers.py")), str(source), str(target)],
                           check=True, env={**os.environ, "LC_ALL": "en_US.UTF-8"})
            predictions |= json.loads(target.read_text(encoding="utf-8"))
    else:
        print(f"(peers not installed at {PEERS}: see this file's docstring)")
    print(f"blind sets: {', '.join(sets)}; {len(gold)} customer utterances "
          f"({', '.join(f'{label} {gold.count(label)}' for label in LABELS)})")
    print(f"\n{'analyser':10s} {'accuracy':>8s} {'macro F1':>8s} " + " ".join(f"{'F1 ' + label[:3]:>8s}" for label in LABELS))
    for name, predicted in predictions.items():
        per_class = f1_score(gold, predicted, labels=LABELS, average=None, zero_division=0)
        print(f"{name:10s} {accuracy_score(gold, predicted):8.3f} "
              f"{f1_score(gold, predicted, labels=LABELS, average='macro', zero_division=0):8.3f} "
              + " ".join(f"{x:8.3f}" for x in per_class))


if __name__ == "__main__":
    main()
