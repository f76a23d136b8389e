"""Text-mining benchmark: blind sets first (the headline), then koe's own development set.

``--blind`` part: per-tag precision/recall/F1 and macro F1 (call level) and sentiment accuracy and
macro F1 on every blind call set under bench/data/blind/ (written by helpers who never saw koe's
rules; aggregates only are printed, never their text). The rest runs on
bench/data/textmining_eval.jsonl, a DEVELOPMENT set: it was written together with the rules, so
its figures say nothing about calls koe has not seen.

Prints per-tag precision/recall/F1 and macro F1 (call level), per split (main / held-out phrasing),
topic agreement (NMI of the fitted topic model's top topic vs the topic labels), category
agreement with the topic labels, sentiment accuracy on labelled utterances, PII recall, and
throughput of analyse_call vs fugashi tokenisation alone (same run, same texts).

Run: ``.venv/bin/python bench/textmining.py``.

The eval set carries no audio, so hold metrics are derived here: a gap of >= 30 s after an agent
utterance counts as a hold (the transcribe stage measures holds from audio silence the same way in
spirit; this bench only needs the intervals).
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its name (textmining.py) would
# shadow the textmining package: put the repository root first instead.
_ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(_ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]

from sklearn.metrics import normalized_mutual_info_score  # noqa: E402

sys.path.append(str(Path(__file__).parent))  # last: this file would shadow the textmining package
from blindsets import gap_metrics, prf, to_transcript  # noqa: E402

from koe.taxonomy import TAG_IDS  # noqa: E402
from textmining.analyse import TextMiningOptions, analyse_call, load_text_mining  # noqa: E402
from textmining.topics import assign_topics, fit_topic_model  # noqa: E402

DATA = Path(__file__).parent / "data" / "textmining_eval.jsonl"


def load_calls() -> list[dict]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


def tag_table(rows: list[tuple[set[str], set[str]]], title: str) -> float:
    print(f"\n== tags, {title} ({len(rows)} calls) ==")
    print(f"{'tag':20s} {'n':>4s} {'P':>6s} {'R':>6s} {'F1':>6s}")
    f1s = []
    for tag in TAG_IDS:
        tp = sum(tag in g and tag in p for g, p in rows)
        fp = sum(tag not in g and tag in p for g, p in rows)
        fn = sum(tag in g and tag not in p for g, p in rows)
        p, r, f = prf(tp, fp, fn)
        f1s.append(f)
        print(f"{tag:20s} {tp + fn:4d} {p:6.3f} {r:6.3f} {f:6.3f}")
    macro = sum(f1s) / len(f1s)
    print(f"{'macro F1':20s} {'':4s} {'':6s} {'':6s} {macro:6.3f}  (target on blind sets: macro >= 0.93, every tag >= 0.85)")
    return macro


def blind_tags_and_sentiment(resources: object) -> float | None:
    """Tags and sentiment on the blind call sets; returns the pooled macro F1 (None without sets)."""
    from blindsets import load_sets

    sets = load_sets("calls")
    if not sets:
        return None
    pooled: list[tuple[set[str], set[str]]] = []
    gold_sent: list[str] = []
    pred_sent: list[str] = []
    for name, calls in sets.items():
        rows = []
        for call in calls:
            t = to_transcript(call)
            analysis = analyse_call(t, gap_metrics(t), resources=resources)  # type: ignore[arg-type]
            rows.append((set(call.get("tags") or []), {h.tag for h in analysis.tags}))
            for u, ua in zip(call["utterances"], analysis.utterances, strict=True):
                if u.get("sentiment"):
                    gold_sent.append(u["sentiment"])
                    pred_sent.append(ua.sentiment_label)
        tag_table(rows, f"BLIND {name}")
        pooled += rows
    macro = tag_table(pooled, "BLIND, all sets pooled")
    from sklearn.metrics import accuracy_score, f1_score

    print(f"\n== sentiment, BLIND == {len(gold_sent)} customer utterances: accuracy "
          f"{accuracy_score(gold_sent, pred_sent):.3f}, macro F1 "
          f"{f1_score(gold_sent, pred_sent, average='macro'):.3f}; gold {dict(Counter(gold_sent))}")
    return macro


def main() -> None:
    resources = load_text_mining(TextMiningOptions())
    blind = blind_tags_and_sentiment(resources)
    if "--blind" in sys.argv:
        return
    print("\n######## DEVELOPMENT set (bench/data/textmining_eval.jsonl, written with the rules) ########")
    calls = load_calls()
    transcripts = [to_transcript(c) for c in calls]
    metrics = [gap_metrics(t) for t in transcripts]
    n_utts = sum(len(t.utterances) for t in transcripts)

    # warm-up, then time both in the same run on the same texts
    analyse_call(transcripts[0], metrics[0], resources=resources)
    t0 = time.perf_counter()
    analyses = [analyse_call(t, m, resources=resources) for t, m in zip(transcripts, metrics, strict=True)]
    t_analyse = time.perf_counter() - t0
    tagger = resources.tagger
    t0 = time.perf_counter()
    for t in transcripts:
        for u in t.utterances:
            list(tagger(u.text))
    t_fugashi = time.perf_counter() - t0

    rows = {"all": [], "main": [], "heldout": []}
    for call, analysis in zip(calls, analyses, strict=True):
        row = (set(call["labels"]["tags"]), {h.tag for h in analysis.tags})
        rows["all"].append(row)
        rows[call.get("split", "main")].append(row)
    print(f"eval set: {len(calls)} calls, {n_utts} utterances, rules_version {resources.rules_version}")
    macro = {name: tag_table(r, name) for name, r in rows.items() if r}

    # topics: fit on the calls' document tokens, top topic per call vs label
    docs = [a.document_tokens for a in analyses]
    model = fit_topic_model(docs)
    predicted = []
    for d in docs:
        weights = assign_topics(model, d, min_weight=0.0)
        predicted.append(max(weights, key=lambda w: w.weight).topic_id if weights else -1)
    labels = [c["labels"]["topic"] for c in calls]
    nmi = normalized_mutual_info_score(labels, predicted)
    print(f"\n== topics == k={model.n_topics} (chosen from data); NMI vs labels {nmi:.3f} (target >= 0.6)")
    for tid, label in zip(model.topic_ids, model.labels, strict=True):
        members = Counter(lab for lab, p in zip(labels, predicted, strict=True) if p == tid)
        print(f"  topic {tid}: {label[:40]:40s} {dict(members.most_common(3))}")
    cat_ok = sum(any(h.category == lab for h in a.categories) for lab, a in zip(labels, analyses, strict=True))
    print(f"category rule matches the labelled topic: {cat_ok}/{len(calls)} = {cat_ok / len(calls):.3f}")

    # sentiment on labelled utterances
    hit = total = 0
    confusion: Counter[tuple[str, str]] = Counter()
    for call, analysis in zip(calls, analyses, strict=True):
        for u, ua in zip(call["utterances"], analysis.utterances, strict=True):
            if "sentiment" in u:
                total += 1
                hit += u["sentiment"] == ua.sentiment_label
                confusion[(u["sentiment"], ua.sentiment_label)] += 1
    print(f"\n== sentiment == accuracy {hit / max(1, total):.3f} on {total} labelled utterances")
    print("  (gold, predicted): " + ", ".join(f"{g}->{p}:{n}" for (g, p), n in sorted(confusion.items())))

    # PII recall: a labelled PII string must not survive in the redacted text
    found = Counter[str]()
    missed = Counter[str]()
    for call, analysis in zip(calls, analyses, strict=True):
        for u, ua in zip(call["utterances"], analysis.utterances, strict=True):
            for p in u.get("pii", []):
                (missed if p["text"] in ua.redacted_text else found)[p["type"]] += 1
    n_pii = sum(found.values()) + sum(missed.values())
    print(f"\n== PII == recall {sum(found.values()) / max(1, n_pii):.3f} on {n_pii} spans (target 1.0); "
          + ", ".join(f"{k} {found[k]}/{found[k] + missed[k]}" for k in sorted(set(found) | set(missed))))

    print(f"\n== throughput == analyse_call {n_utts / t_analyse:,.0f} utt/s; fugashi alone {n_utts / t_fugashi:,.0f} utt/s;"
          f" ratio analyse/fugashi {t_fugashi / t_analyse:.3f} ({t_analyse / t_fugashi:.1f}x slower)")
    if blind is not None:
        print(f"\nsummary: BLIND macro F1 {blind:.3f} (target >= 0.93, every tag >= 0.85)")
    print(f"summary (development set): macro F1 all {macro['all']:.3f} main {macro.get('main', 0):.3f} heldout {macro.get('heldout', 0):.3f};"
          f" NMI {nmi:.3f}; sentiment acc {hit / max(1, total):.3f}; PII recall {sum(found.values()) / max(1, n_pii):.3f}")


if __name__ == "__main__":
    main()
