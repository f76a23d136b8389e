"""Topics on the blind call sets: does each call's primary topic agree with its real contact reason?

For every blind call set (bench/data/blind/<name>/, not the PII probes) and for all of them pooled,
this runs koe's topic path as the pipeline does (``analyse_call`` -> topic document -> a model fitted
with k chosen from the data -> each call's top topic) and prints:

- NMI, adjusted Rand index and purity of the primary topics against the reasons (calls without a
  primary topic, 「その他」, count as one more group), and the share of calls in 「その他」;
- k chosen against the true number of reasons;
- how many topic memberships the report counts per call (the report counts every topic a call has
  weight on, so its volumes can add up to more than the calls);
- label readability: the share of labels whose terms are all nouns UniDic knows;
- in the same run, the baseline: plain TF-IDF + NMF with k = the true number of reasons on fugashi
  content words of the whole call, and koe's ratio to it.

Only aggregates are printed, never the sets' text. Run: ``.venv/bin/python bench/topics.py``;
``--seeds`` fits with bench/data/topic_seeds_taxonomy.yaml, known reasons written from the taxonomy.
Target (issue 17): NMI >= 0.75 on the blind sets, and above the baseline.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from blindsets import gap_metrics, load_sets, to_transcript
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from textmining.analyse import TextMiningOptions, analyse_call, load_text_mining
from textmining.topic_seeds import load_topic_seeds
from textmining.topics import assign_topics, fit_topic_model, primary_topic

CONTENT_POS = ("名詞", "動詞", "形容詞")


def purity(labels: list[str], predicted: list[int]) -> float:
    by_topic: dict[int, Counter[str]] = {}
    for label, topic in zip(labels, predicted, strict=True):
        by_topic.setdefault(topic, Counter())[label] += 1
    return sum(c.most_common(1)[0][1] for c in by_topic.values()) / max(1, len(labels))


def readable(label: str, tagger: Any) -> bool:
    """Whether every term of a label is made only of nouns that UniDic knows."""
    for term in label.split("・"):
        words = list(tagger(term))
        if not words or any(w.is_unk or w.feature.pos1 != "名詞" for w in words):
            return False
    return True


def baseline(calls: list[dict[str, Any]], k: int, tagger: Any) -> list[int]:
    """TF-IDF + NMF with the true k on content words of the whole call (both speakers)."""

    def words(call: dict[str, Any]) -> list[str]:
        text = " ".join(u["text"] for u in call["utterances"])
        return [w.surface for w in tagger(text) if w.feature.pos1 in CONTENT_POS]

    matrix = TfidfVectorizer(analyzer=words, min_df=2).fit_transform(calls)
    weights = NMF(n_components=k, init="nndsvda", random_state=0, max_iter=500).fit_transform(matrix)
    return [int(row.argmax()) for row in weights]


SEEDS = Path(__file__).parent / "data" / "topic_seeds_taxonomy.yaml"


def score(name: str, calls: list[dict[str, Any]], resources: Any, seeds: tuple = ()) -> tuple[float, float]:
    analyses = [analyse_call(t, gap_metrics(t), resources=resources) for t in map(to_transcript, calls)]
    docs = [a.document_tokens for a in analyses]
    labels = [c["reason"] for c in calls]
    model = fit_topic_model(docs, seeds=seeds)
    predicted, memberships, other = [], 0, 0
    for doc in docs:
        weights = assign_topics(model, doc)
        primary = primary_topic(weights)
        # その他 (no primary topic) is one more group: scored as such, not dropped
        predicted.append(primary.topic_id if primary else -1)
        other += primary is None
        memberships += len(weights)
    true_k = len(set(labels))
    nmi = normalized_mutual_info_score(labels, predicted)
    base = baseline(calls, true_k, resources.tagger)
    base_nmi = normalized_mutual_info_score(labels, base)
    labels_ok = sum(readable(label, resources.tagger) for label in model.labels)
    print(
        f"{name:22s} {len(calls):5d} {true_k:4d} {model.n_topics:4d} {nmi:6.3f} {adjusted_rand_score(labels, predicted):6.3f}"
        f" {purity(labels, predicted):6.3f} {other / len(calls):6.3f} {memberships / len(calls):7.2f} {labels_ok:3d}/{model.n_topics:<3d}"
        f" {base_nmi:8.3f} {nmi / max(1e-9, base_nmi):6.2f}"
    )
    return nmi, base_nmi


def main() -> None:
    sets = load_sets("calls")
    if not sets:
        sys.exit("no blind call sets under bench/data/blind/*/calls.jsonl")
    resources = load_text_mining(TextMiningOptions())
    seeds = load_topic_seeds(SEEDS) if "--seeds" in sys.argv else ()
    if seeds:
        print(f"with {len(seeds)} known reasons from {SEEDS.name} (a manager's seeds file)")
    print(f"{'set':22s} {'calls':>5s} {'true':>4s} {'k':>4s} {'NMI':>6s} {'ARI':>6s} {'purity':>6s} {'その他':>5s}"
          f" {'topics/':>7s} {'readable':>7s} {'base NMI':>8s} {'ratio':>6s}")
    print(f"{'':22s} {'':5s} {'k':>4s} {'':4s} {'':6s} {'':6s} {'':6s} {'share':>6s} {'call':>7s} {'labels':>7s}")
    for name, calls in sets.items():
        score(name, calls, resources, seeds)
    pooled = [c for calls in sets.values() for c in calls]
    nmi, base = score("all (pooled)", pooled, resources, seeds)
    print(f"summary: blind NMI {nmi:.3f} vs TF-IDF+NMF baseline {base:.3f} (ratio {nmi / max(1e-9, base):.2f});"
          " target NMI >= 0.75 and above the baseline")


if __name__ == "__main__":
    main()
