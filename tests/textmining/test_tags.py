from __future__ import annotations

from pathlib import Path

import pytest

from koe.errors import ConfigError
from koe.records import CallMetrics, Interval
from textmining.normalise import normalise_text, restore_kanji, strip_fillers
from textmining.pii import redact
from textmining.rulefile import MinedUtterance
from textmining.tags import find_tags, hold_tags, load_tag_rules
from textmining.tokens import load_tagger, tokenize

RULES = load_tag_rules()


def mined(text: str, speaker: str = "customer", index: int = 0) -> MinedUtterance:
    tagger = load_tagger()
    form = restore_kanji(strip_fillers(redact(normalise_text(text), tagger=tagger).text))
    toks = tokenize(form, tagger=tagger)
    return MinedUtterance(index, speaker, float(index), form,  # type: ignore[arg-type]
                          tuple(t.lemma for t in toks), tuple(t.surface for t in toks))


def tags_of(text: str, speaker: str = "customer") -> set[str]:
    return {h.tag for h in find_tags([mined(text, speaker)], RULES)}


POSITIVE = [
    ("repeat_contact", "前にも同じことで電話したんですけど"),
    ("repeat_contact", "選手も電話したんですが まだネットが切れるんですよ"),  # ASR slip of 先週
    ("repeat_contact", "昨日もお電話させていただいたんですけど"),
    ("repeat_contact", "せんしゅうもといあわせたんですが"),
    ("repeat_contact", "この件で連絡するのもう五回目ですよ"),
    ("repeat_explanation", "さっきも言いましたけど"),
    ("repeat_explanation", "ですから先ほど申し上げた通りです"),
    ("repeat_explanation", "また一から説明しなきゃいけないの"),
    ("escalation_request", "責任者の方に代わっていただけませんか"),
    ("escalation_request", "上の人呼んでよ"),
    ("escalation_request", "せきにんしゃと話させてください"),
    ("long_wait", "電話が全然つながらなくて"),
    ("long_wait", "四十分も待たされましたよ"),
    ("long_wait", "かけてもかけても話し中やったんです"),
    ("churn_intent", "かいやくしたいんですけど"),
    ("churn_intent", "他社に乗り換えようと思ってます"),
    ("churn_intent", "もうこんなサービスやめます"),
    ("churn_intent", "解約の手続きをお願いできますでしょうか"),
    ("anger", "ふざけないでください"),
    ("anger", "いい加減にしてもらえませんか"),
    ("anger", "ほんまに頭にくるわ"),
    ("channel_switch", "チャットで問い合わせたんですが"),
    ("channel_switch", "メールを送ったのに返信が来なくて"),
    ("channel_switch", "ホームページ見てもわからなくて"),
]
NEGATIVE = [
    ("repeat_contact", "初めて電話するんですけど"),
    ("repeat_contact", "まだ一度も電話したことがないんですが"),
    ("repeat_contact", "誰も電話してこないんですけど"),
    ("repeat_contact", "何度かけても話し中で"),  # that is long_wait
    ("repeat_explanation", "さっき言われた通りにやってみました"),
    ("escalation_request", "上司に相談してからまた決めます"),
    ("escalation_request", "上司に代わらなくても大丈夫です"),
    ("long_wait", "インターネットがつながらないんです"),  # an outage, not a wait
    ("churn_intent", "解約はしません"),
    ("churn_intent", "解約するつもりはないんですけど"),
    ("churn_intent", "解約じゃなくてプランを変えたいだけです"),
    ("churn_intent", "他社に乗り換えるつもりはないです"),
    ("anger", "別に怒ってないですよ"),
    ("anger", "怒ってるわけじゃないんですけど"),
    ("channel_switch", "メールアドレスを変更したいんですが"),
]
AGENT_LOOKALIKES = [  # agent scripts that read like complaints
    "お待たせして申し訳ございません",
    "恐れ入りますがもう一度お伺いしてもよろしいでしょうか",
    "詳しくはホームページをご覧ください",
    "解約をご希望の場合は違約金がかかります",
    "責任者に確認いたします",
]


@pytest.mark.parametrize(("tag", "text"), POSITIVE)
def test_tag_fires(tag: str, text: str) -> None:
    assert tag in tags_of(text)


@pytest.mark.parametrize(("tag", "text"), NEGATIVE)
def test_tag_does_not_fire(tag: str, text: str) -> None:
    assert tag not in tags_of(text)


@pytest.mark.parametrize("text", AGENT_LOOKALIKES)
def test_agent_scripts_are_not_complaints(text: str) -> None:
    assert tags_of(text, speaker="agent") == set()


@pytest.mark.parametrize("text", ["担当部署にお繋ぎいたします", "技術担当の者に代わります"])
def test_transfer_is_agent_only(text: str) -> None:
    assert tags_of(text, speaker="agent") == {"transfer"}
    assert "transfer" not in tags_of(text, speaker="customer")


def test_unresolved_only_near_the_end() -> None:
    calls = [mined("はい", "customer", i) for i in range(10)]
    early = list(calls)
    early[1] = mined("確認して折り返しご連絡いたします", "agent", 1)
    late = list(calls)
    late[8] = mined("確認して折り返しご連絡いたします", "agent", 8)
    assert not [h for h in find_tags(early, RULES) if h.tag == "unresolved"]
    assert [h.utterance_index for h in find_tags(late, RULES) if h.tag == "unresolved"] == [8]


def test_evidence_is_redacted() -> None:
    hits = find_tags([mined("山田と申しますが前にも電話したんですけど")], RULES)
    assert hits and all("山田" not in h.evidence for h in hits)


def test_hold_from_metrics() -> None:
    utts = [mined("少々お待ちいただけますか", "agent", 0), mined("お待たせしました", "agent", 1)]
    m = CallMetrics(100.0, 10, 10, 0, 0.5, 1, 90.0, 90.0, 0.9, 0, 0.0, 1, 90.0, 2, None, None,
                    holds=(Interval(0.5, 90.5, "agent"),))
    (hit,) = hold_tags(utts, m)
    assert (hit.tag, hit.utterance_index) == ("hold", 0)
    assert "90" in hit.evidence and "お待ち" in hit.evidence
    assert hold_tags(utts, None) == ()


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("rules: []", "non-empty 'rules'"),
        ("rules:\n  - {id: a, tag: nope, patterns: [x]}", "rule a: tag must be one of"),
        ("rules:\n  - {id: a, tag: anger, patterns: ['(']}", "rule a: invalid regex"),
        ("rules:\n  - {id: a, tag: anger}", "rule a: needs 'patterns' or 'lemmas'"),
        ("rules:\n  - {id: a, tag: anger, patterns: [x], speaker: boss}", "rule a: speaker must be"),
        ("rules:\n  - {id: a, tag: hold, patterns: [x]}", "hold comes from the hold metric"),
    ],
)
def test_invalid_rules_name_file_and_rule(tmp_path: Path, yaml_text: str, message: str) -> None:
    path = tmp_path / "tags.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ConfigError, match=str(path).replace("\\", "\\\\")) as info:
        load_tag_rules(path)
    assert message in str(info.value)
