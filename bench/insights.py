"""Benchmark of the insights stage: churn-score quality and summary recompute speed.

Generates a history of customers whose churn outcome depends, noisily, on what happened in their
calls: each customer has a latent propensity ``z ~ N(0, 1)``; higher ``z`` means more calls, more
churn intent, unresolved calls, escalations and anger, sentiment that worsens and effort that rises
over the history, and repeat calls about the same topic. The outcome is drawn from
``Bernoulli(sigmoid(3 z − 1.5))``, so even a perfect estimate of ``z`` is far from AUC 1.

The history is bulk-inserted through koe's real tables into a temporary SQLite database (migrated
with Alembic). Then:

- ROC AUC of the default (rules) score against the outcomes, on a held-out 30 % of customers;
- ROC AUC of the trained model: cross-validated on the 70 % it is trained on and on the held-out 30 %;
- time to read every customer's calls from the database (``load_call_facts``) vs time to recompute
  every summary, churn score and brief (pure Python) in the same run, and their ratio.

Run: ``.venv/bin/python bench/insights.py [--customers 2200] [--seed 7]``. Targets: default AUC
>= 0.8, trained AUC >= 0.85.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from insights.assess import assess_customer
from insights.train import customer_features, model_churn_risk, train_churn_model
from models.call_facts import load_call_facts
from models.db import dispose_engine, load_engine, transaction, upgrade_database
from models.tables import Call, CallTopicRow, Customer, TagRow, TopicModelRow, TopicRow, UtteranceRow

NOW = datetime(2026, 3, 1, tzinfo=UTC)
TOPICS = ["請求・料金", "ログインできない", "配送の遅れ", "解約・プラン変更", "初期設定", "返品・交換"]
QUOTES = {
    "churn_intent": "もう解約しようと思っています",
    "unresolved": "また確認して折り返しご連絡します",
    "escalation_request": "上の人に代わってもらえますか",
    "anger": "いい加減にしてください",
    "repeat_contact": "先週も電話したんですけど",
    "transfer": "担当部署におつなぎします",
    "long_wait": "ずっとつながらなかったんですよ",
}


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def generate(n_customers: int, seed: int) -> tuple[dict[str, list[dict]], dict[str, bool]]:
    """Calls (as row dicts with their tags) per customer, and each customer's churn outcome."""
    rng = random.Random(seed)
    history: dict[str, list[dict]] = {}
    outcomes: dict[str, bool] = {}
    for c in range(n_customers):
        customer = f"C{c:05d}"
        z = rng.gauss(0, 1)
        outcomes[customer] = rng.random() < sigmoid(3.0 * z - 1.5)
        n_calls = max(1, int(rng.gauss(7.5 + 2.5 * max(z, 0), 2)))
        times = sorted(NOW - timedelta(days=rng.uniform(0, 365)) for _ in range(n_calls))
        if z > 0.5:  # trouble piles up recently: some calls move into the last weeks
            times = sorted(
                t if rng.random() > 0.3 * z else NOW - timedelta(days=rng.uniform(0, 40)) for t in times
            )
        topic = rng.randrange(len(TOPICS))
        calls = []
        for i, started in enumerate(times):
            progress = (i + 1) / n_calls
            if rng.random() > 0.4 + 0.15 * max(z, 0):
                topic = rng.randrange(len(TOPICS))
            tags = []
            for tag, logit in (
                ("churn_intent", -5.0 + 1.6 * z + 1.5 * progress * max(z, 0)),
                ("unresolved", -1.8 + 0.7 * z),
                ("escalation_request", -3.8 + 1.0 * z),
                ("anger", -3.0 + 0.9 * z + progress * max(z, 0)),
                ("repeat_contact", -2.5 + 0.6 * z),
                ("transfer", -2.0 + 0.3 * z),
                ("long_wait", -2.2 + 0.3 * z),
            ):
                if rng.random() < sigmoid(logit):
                    tags.append(tag)
            sentiment = max(-1.0, min(1.0, 0.25 - 0.35 * z * progress + rng.gauss(0, 0.3)))
            effort = max(0.0, min(100.0, 15 + 18 * max(z, 0) * progress + 8 * len(tags) + rng.gauss(0, 10)))
            end = sentiment + rng.gauss(-0.15 * z, 0.2)
            trajectory = (
                "worsening" if end < sentiment - 0.2 else "improving" if end > sentiment + 0.2 else "neutral"
            )
            calls.append(
                {
                    "call_id": f"{customer}-{i:03d}",
                    "started_at": started,
                    "topic": topic,
                    "tags": tags,
                    "sentiment": sentiment,
                    "end": end,
                    "effort": effort,
                    "trajectory": trajectory,
                }
            )
        history[customer] = calls
    return history, outcomes


def load(url: str, history: dict[str, list[dict]]) -> int:
    """Bulk-insert customers, calls, topics, tags and a last customer utterance per call."""
    with transaction(url) as session:
        session.execute(
            insert(TopicModelRow),
            [{"id": 1, "version": "bench", "n_topics": len(TOPICS), "is_current": True}],
        )
        session.execute(
            insert(TopicRow), [{"id": i, "label": label, "model_id": 1} for i, label in enumerate(TOPICS)]
        )
        session.execute(insert(Customer), [{"customer_id": c} for c in history])
        rows, tag_rows, topic_rows, utterances = [], [], [], []
        pk = 0
        for customer, calls in history.items():
            for call in calls:
                pk += 1
                rows.append(
                    {
                        "id": pk,
                        "call_id": call["call_id"],
                        "customer_id": customer,
                        "started_at": call["started_at"],
                        "status": "done",
                        "duration_s": 300.0,
                        "effort_index": call["effort"],
                        "customer_sentiment": call["sentiment"],
                        "customer_sentiment_start": call["sentiment"],
                        "customer_sentiment_end": call["end"],
                        "trajectory": call["trajectory"],
                        "attributes": {},
                        "effort_components": [],
                    }
                )
                topic_rows.append({"call_pk": pk, "topic_id": call["topic"], "weight": 0.8, "model_id": 1})
                for index, tag in enumerate(call["tags"]):
                    tag_rows.append(
                        {
                            "call_pk": pk,
                            "tag": tag,
                            "utterance_index": index,
                            "start_s": 10.0 * (index + 1),
                            "evidence": QUOTES[tag],
                        }
                    )
                utterances.append(
                    {
                        "call_pk": pk,
                        "index": 9,
                        "speaker": "customer",
                        "start_s": 280.0,
                        "end_s": 290.0,
                        "redacted_text": "よろしくお願いします",
                    }
                )
        session.execute(insert(Call), rows)
        session.execute(insert(CallTopicRow), topic_rows)
        session.execute(insert(TagRow), tag_rows)
        session.execute(insert(UtteranceRow), utterances)
    return pk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2500)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    started = time.perf_counter()
    history, outcomes = generate(args.customers, args.seed)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade_database(url)
        n_calls = load(url, history)
        print(
            f"history: {len(history)} customers, {n_calls} calls, churn rate {np.mean(list(outcomes.values())):.2f} "
            f"(generated and loaded in {time.perf_counter() - started:.1f} s)"
        )

        ids = sorted(history)
        t0 = time.perf_counter()
        with transaction(url) as session:
            facts = load_call_facts(session, ids)
        read_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        assessments = {c: assess_customer(c, facts[c], now=NOW) for c in ids}
        compute_s = time.perf_counter() - t0
        load_engine(url)
        dispose_engine(url)

    rng = random.Random(args.seed + 1)
    shuffled = ids[:]
    rng.shuffle(shuffled)
    cut = int(0.7 * len(shuffled))
    train_ids, test_ids = shuffled[:cut], shuffled[cut:]
    y_test = [outcomes[c] for c in test_ids]

    default_auc_all = roc_auc_score([outcomes[c] for c in ids], [assessments[c].risk.score for c in ids])
    default_auc = roc_auc_score(y_test, [assessments[c].risk.score for c in test_ids])

    t0 = time.perf_counter()
    summaries = {c: assessments[c].summary for c in ids}
    model, report = train_churn_model(
        [customer_features(summaries[c]) for c in train_ids], [outcomes[c] for c in train_ids]
    )
    train_s = time.perf_counter() - t0
    held_out = roc_auc_score(y_test, [model_churn_risk(model, summaries[c]).score for c in test_ids])
    levels = {
        lvl: sum(1 for a in assessments.values() if a.risk.level == lvl) for lvl in ("low", "medium", "high")
    }

    print(
        f"default score ROC AUC: {default_auc:.3f} held-out ({len(test_ids)} customers), {default_auc_all:.3f} all"
        f"  [target >= 0.80]  levels {levels}"
    )
    print(
        f"trained model ROC AUC: {report['cv_roc_auc']:.3f} cross-validated ({report['cv_folds']} folds, "
        f"{len(train_ids)} customers), {held_out:.3f} held-out  [target >= 0.85]  (trained in {train_s:.1f} s)"
    )
    print(
        "top features: " + ", ".join(f"{f['feature']} {f['coef']:+.2f}" for f in report["top_features"][:5])
    )
    print(
        f"read calls from DB: {read_s:.2f} s; recompute summaries+scores+briefs: {compute_s:.2f} s; "
        f"ratio recompute/read = {compute_s / read_s:.2f} ({1000 * compute_s / len(ids):.2f} ms per customer)"
    )
    print(f"total {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
