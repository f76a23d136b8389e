from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from koe.errors import ConfigError
from koe.records import Transcript, Utterance
from textmining.analyse import TextMiningOptions, analyse_call, load_text_mining


class FakeScorer:
    def score(self, texts: Sequence[str]) -> list[float]:
        return [-0.8 if "ふざけ" in t else 0.0 for t in texts]


CALL = Transcript(
    utterances=(
        Utterance("agent", 0.0, 3.0, "お電話ありがとうございます。さくらネットの佐藤と申します"),
        Utterance("customer", 3.5, 6.0, "山田と申します。前にも電話したんですけど、かいやくしたいんです"),
        Utterance("customer", 6.5, 9.0, "電話番号は090-1234-5678です"),
        Utterance("customer", 9.5, 12.0, "ふざけないでください"),
        Utterance("agent", 12.5, 15.0, "確認して折り返しご連絡いたします"),
    ),
    duration_s=15.0,
    speakers_separated=True,
)


@pytest.fixture(scope="module")
def resources():  # type: ignore[no-untyped-def]
    return load_text_mining(TextMiningOptions(), scorer=FakeScorer())


def test_analyse_call(resources) -> None:  # type: ignore[no-untyped-def]
    result = analyse_call(CALL, None, resources=resources)
    assert [u.index for u in result.utterances] == [0, 1, 2, 3, 4]
    assert result.utterances[2].redacted_text == "電話番号は［電話番号］です"
    # The agent's own name in the greeting is an employee's, not PII (issue 16); the caller's is.
    assert result.utterances[0].redacted_text == "お電話ありがとうございます。さくらネットの佐藤と申します"
    assert result.utterances[1].redacted_text.startswith("［氏名］と申します")
    assert result.pii_count == 2
    assert result.redaction_errors == 0
    assert {h.tag for h in result.tags} == {"repeat_contact", "churn_intent", "anger", "unresolved"}
    assert "解約" in {c.category for c in result.categories}
    factors = dict(result.effort.components)
    assert {k: factors[k] for k in ("repeat_contact", "unresolved", "anger")} == {
        "repeat_contact": 14, "unresolved": 10, "anger": 14}
    assert result.effort.index == sum(factors.values())
    assert len(result.rules_version) == 12
    assert result.utterances[3].sentiment_label == "negative"
    for text in [h.evidence for h in result.tags] + [u.redacted_text for u in result.utterances]:
        assert "山田" not in text and "5678" not in text
    assert "山田" not in result.document_tokens
    # placeholders say that something was redacted, not what the call is about
    assert not {"氏名", "電話番号", "番号"} & set(result.document_tokens)
    assert "解約" in result.document_tokens


def test_rules_version_follows_content(tmp_path: Path, resources) -> None:  # type: ignore[no-untyped-def]
    rules = tmp_path / "tags.yaml"
    rules.write_text("rules:\n  - {id: a, tag: anger, patterns: ['ふざけ']}\n", encoding="utf-8")
    other = load_text_mining(TextMiningOptions(tag_rules=rules), scorer=FakeScorer())
    assert other.rules_version != resources.rules_version
    assert {h.tag for h in analyse_call(CALL, None, resources=other).tags} == {"anger"}


def test_missing_rules_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: cannot read"):
        load_text_mining(TextMiningOptions(tag_rules=tmp_path / "nope.yaml"))


def test_options_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        TextMiningOptions(Path("x"))  # type: ignore[misc]
