"""Peer sentiment analysers on a list of texts, run in their own virtual environment.

Usage: ``.venv-peers/bin/python bench/sentiment_peers.py IN.json OUT.json`` where IN holds a JSON list
of texts; OUT gets ``{"oseti": [...], "asari": [...]}``, one label (positive / neutral / negative)
per text. bench/sentiment.py calls it; see there for the set-up of ``.venv-peers``.

- oseti (Tohoku University's polarity lexicon over MeCab with IPADIC): the mean of its per-sentence
  scores; 0 (no polar word) is neutral.
- asari (a TF-IDF + linear model trained on reviews, positive/negative only): neutral when its top
  class has a confidence below 0.75 (the two classes within 0.5 of each other).
"""

from __future__ import annotations

import json
import sys


def oseti_labels(texts: list[str]) -> list[str]:
    import ipadic
    import oseti

    analyzer = oseti.Analyzer(mecab_args=f"-r /dev/null -d {ipadic.DICDIR}")
    out = []
    for text in texts:
        scores = analyzer.analyze(text) if text.strip() else []
        mean = sum(scores) / len(scores) if scores else 0.0
        out.append("positive" if mean > 0 else "negative" if mean < 0 else "neutral")
    return out


def asari_labels(texts: list[str]) -> list[str]:
    from asari.api import Sonar

    sonar = Sonar()
    out = []
    for text in texts:
        result = sonar.ping(text=text or "。")
        top = max(result["classes"], key=lambda c: c["confidence"])
        out.append(top["class_name"] if top["confidence"] >= 0.75 else "neutral")
    return out


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as source:
        texts = json.load(source)
    labels = {"oseti": oseti_labels(texts), "asari": asari_labels(texts)}
    with open(sys.argv[2], "w", encoding="utf-8") as target:
        json.dump(labels, target)


if __name__ == "__main__":
    main()
