"""Taking a forgotten customer's words out of a stored topic model (``models.topic_erasure``)."""

from __future__ import annotations

from models.topic_erasure import scrub_label, scrub_model
from textmining.topics import TopicModel, assign_topics

MODEL = {
    "version": "topics-abc",
    "vocabulary": ["回線", "解約", "ミナミカゼ", "請求", "山田"],
    "idf": [1.0, 1.2, 2.5, 1.1, 2.5],
    "components": [[0.5, 0.4, 0.7, 0.0, 0.1], [0.0, 0.1, 0.0, 0.9, 0.6]],
    "topic_ids": [3, 7],
    "labels": ["ミナミカゼ・回線", "山田"],
    "top_terms": [["ミナミカゼ", "回線", "解約", "山田"], ["請求", "山田", "解約"]],
}


def test_erased_words_leave_vocabulary_weights_top_terms_and_labels() -> None:
    scrubbed, count = scrub_model(MODEL, {"ミナミカゼ", "山田"})
    assert count == 2
    text = repr(scrubbed)
    assert "ミナミカゼ" not in text and "山田" not in text
    assert scrubbed["top_terms"] == [["回線", "解約"], ["請求", "解約"]]
    assert scrubbed["labels"] == ["回線", "請求・解約"]  # an emptied label falls back to the top terms
    assert scrubbed["components"][0][2] == 0.0 and scrubbed["components"][1][4] == 0.0
    assert scrubbed["idf"] == MODEL["idf"] and scrubbed["topic_ids"] == [3, 7]
    # Still a model koe can load and assign with, and the erased words no longer count.
    model = TopicModel.from_dict(scrubbed)
    weights = assign_topics(model, ("回線", "解約", "回線"))
    assert weights and weights[0].topic_id == 3
    assert assign_topics(model, ("ミナミカゼ", "山田")) == assign_topics(model, ())


def test_a_model_without_their_words_is_left_alone() -> None:
    assert scrub_model(MODEL, {"ほかの言葉"}) == (MODEL, 0)
    assert scrub_label("回線・解約", {"請求"}, ["x"], fallback="topic 0") == "回線・解約"
    assert scrub_label("山田", {"山田"}, [], fallback="topic 5") == "topic 5"
