"""Managers' topic edits: renames and merges hold in the report, after a refit and for new calls."""

from __future__ import annotations

import pytest

from koe.errors import InputError, NotFoundError
from koe.records import TopicWeight
from models.calls import store_topic_weights
from models.db import transaction
from models.tables import Call
from models.topic_edits import fold_merged, list_topic_edits, merge_topic, rename_topic
from models.topic_report import topic_report
from models.topics import TopicDraft, current_topic_model, save_topic_model
from tests.api.seed import TOPICS, seed


def _volumes(url: str) -> dict[str, int]:
    with transaction(url) as session:
        report = topic_report(session)
    assert sum(t["volume"] for t in report["topics"]) + report["other_calls"] == report["total_calls"]
    return {t["label"]: t["volume"] for t in report["topics"]}


def test_rename_survives_a_refit(db_url: str) -> None:
    seed(db_url)
    with transaction(db_url) as session:
        rename_topic(session, 0, "通信障害", by="manager:test")
    assert _volumes(db_url) == {"通信障害": 3, "請求・支払い": 3}
    with transaction(db_url) as session:  # a refit stores its own labels for the same ids
        save_topic_model(session, version="test-2", model={}, drafts=TOPICS, n_documents=6)
    assert _volumes(db_url) == {"通信障害": 3, "請求・支払い": 3}
    with transaction(db_url) as session:
        edits = list_topic_edits(session)
    assert [(e["action"], e["topic_id"], e["label"], e["edited_by"]) for e in edits] == [
        ("rename", 0, "通信障害", "manager:test")
    ]


def test_merge_folds_history_new_calls_and_refits(db_url: str) -> None:
    seed(db_url)
    with transaction(db_url) as session:
        assert merge_topic(session, 1, 0, by="manager:test") == {"topic_id": 1, "merged_into": 0}
    assert _volumes(db_url) == {"回線・つながらない": 6}
    with transaction(db_url) as session:  # a refit brings topic 1 back: its calls still count for 0
        save_topic_model(session, version="test-2", model={}, drafts=[*TOPICS, TopicDraft(2, "新", ("新",))], n_documents=6)
        call_pk = session.query(Call.id).filter(Call.call_id == "call-003").scalar()
        store_topic_weights(session, call_pk, (TopicWeight(1, "請求・支払い", 0.8), TopicWeight(2, "新", 0.2)), None)
    assert _volumes(db_url) == {"回線・つながらない": 6}


def test_edits_are_checked(db_url: str) -> None:
    seed(db_url)
    with transaction(db_url) as session:
        merge_topic(session, 1, 0, by="t")
    with pytest.raises(InputError, match="already counts for"), transaction(db_url) as session:
        merge_topic(session, 0, 1, by="t")  # 1 already counts for 0: that would be a loop
    with pytest.raises(NotFoundError), transaction(db_url) as session:
        rename_topic(session, 99, "x", by="t")
    with pytest.raises(InputError, match="label"), transaction(db_url) as session:
        rename_topic(session, 0, "  ", by="t")


def test_fold_merged_adds_weights_of_merged_topics() -> None:
    weights = (TopicWeight(1, "a", 0.5), TopicWeight(2, "b", 0.3), TopicWeight(3, "c", 0.2))
    assert fold_merged(weights, {2: 3}) == (TopicWeight(1, "a", 0.5), TopicWeight(3, "c", 0.5))
    assert fold_merged(weights, {}) == weights


def test_storing_the_same_model_version_twice_makes_it_current_again(db_url: str) -> None:
    # Two runs refitting the same history at once produce the same content-hashed version.
    seed(db_url)
    with transaction(db_url) as session:
        first = save_topic_model(session, version="test-2", model={}, drafts=TOPICS, n_documents=6)
        save_topic_model(session, version="test-3", model={}, drafts=TOPICS, n_documents=6)
        again = save_topic_model(session, version="test-2", model={}, drafts=TOPICS, n_documents=6)
        current = current_topic_model(session)
    assert again.model_id == first.model_id and current is not None and current.version == "test-2"
