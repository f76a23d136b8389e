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
    # the service not connecting is the problem, not the phone line: still a repeat contact
    ("repeat_contact", "先週も電話したんですけど、まだインターネットがつながらないんです。"),
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
    ("repeat_contact", "前にも電話したんですけど、電話が全然つながらなくて"),  # no contact was made
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


def call_tags(turns: list[tuple[str, str]]) -> set[str]:
    """Tags of a whole call given as (speaker, text) turns."""
    utts = [mined(text, speaker, i) for i, (speaker, text) in enumerate(turns)]
    return {h.tag for h in find_tags(utts, RULES)}


# Registers: polite (丁寧), plain, casual, light Kansai, elderly; each says the same signal.
REGISTERS = [
    ("repeat_contact", "先週もお問い合わせさせていただいたのですが"),
    ("repeat_contact", "こないだも電話したやん"),
    ("repeat_contact", "前回の担当の方には今週中に直ると言われたんですが"),
    ("repeat_contact", "これで三回目ですよ"),
    ("repeat_explanation", "何回同じこと言わせるんですか"),
    ("repeat_explanation", "前の方にも説明したんですけど"),
    ("repeat_explanation", "また最初から話さなあかんの"),
    ("escalation_request", "上の者を出してください"),
    ("escalation_request", "責任者と話をさせてもらえますか"),
    ("escalation_request", "話のわかる人に代わってよ"),
    ("long_wait", "一週間たっても返事が来ないんですよ"),
    ("long_wait", "電話がなかなかつながらなくて"),
    ("long_wait", "注文した品物がまだ届かないんです"),
    ("long_wait", "いつまで待てばいいんですか"),
    ("churn_intent", "もう他のところに変えようかなと思ってます"),
    ("churn_intent", "退会の手続きをお願いしたいのですが"),
    ("churn_intent", "こんなんやったらもうやめるわ"),
    ("anger", "もう我慢の限界です"),
    ("anger", "対応がひどすぎますよ"),
    ("anger", "本当に困ってるんです"),
    ("anger", "話にならないですね"),
    ("channel_switch", "アプリから解約しようとしたんですができなくて"),
    ("channel_switch", "チャットボットじゃ全然解決しなくて"),
    ("channel_switch", "お店に持って行ったら電話してくれって言われて"),
    ("channel_switch", "よくある質問を見てもわからなかったので"),
]


@pytest.mark.parametrize(("tag", "text"), REGISTERS)
def test_tag_fires_across_registers(tag: str, text: str) -> None:
    assert tag in tags_of(text)


# Homophone ASR slips: the cue is matched on its reading.
@pytest.mark.parametrize(
    ("tag", "text", "speaker"),
    [
        ("churn_intent", "開約したいんですけど", "customer"),
        ("repeat_contact", "全開も電話したんですが", "customer"),
        ("escalation_request", "セキニンシャ出してください", "customer"),
    ],
)
def test_homophone_slips_match_on_readings(tag: str, text: str, speaker: str) -> None:
    assert tag in tags_of(text, speaker)


def test_callback_slip_is_unresolved_at_the_end() -> None:
    turns = [("customer", "ネットが使えないんです"), ("agent", "確認して織り返しご連絡します")]
    assert "unresolved" in call_tags(turns)


# Scope: negated, hypothetical, about someone else, past, where signed up.
HARD_NEGATIVES = [
    ("churn_intent", "もし解約したいってなったら違約金はかかりますか"),
    ("churn_intent", "母の回線を解約したいんですけど"),
    ("churn_intent", "オプションだけ解約したいんです"),
    ("churn_intent", "他社に乗り換えるつもりはありません"),
    ("channel_switch", "ネットで申し込んだんですけど"),
    ("channel_switch", "お店で購入したんですが"),
    ("repeat_contact", "電話したのは今日が初めてです"),
    ("repeat_contact", "前に別の件で問い合わせたことはあります"),
    ("repeat_explanation", "さっき説明していただいた件ですが"),
    ("anger", "なぜ料金が変わったのか教えていただけますか"),
    ("anger", "最悪の場合はどうなりますか"),
    ("escalation_request", "上司と相談してから決めます"),
    ("long_wait", "電話がつながってよかったです"),
]


@pytest.mark.parametrize(("tag", "text"), HARD_NEGATIVES)
def test_scope_rejects_hard_negatives(tag: str, text: str) -> None:
    assert tag not in tags_of(text)


@pytest.mark.parametrize(
    ("turns", "expected"),
    [
        # withdrawn later in the call
        ([("customer", "解約したいんですけど"), ("agent", "割引がございます"),
          ("customer", "それならやっぱり続けます")], False),
        ([("customer", "解約したいんですけど"), ("agent", "割引がございます"),
          ("customer", "じゃあ解約はやめておきます")], False),
        # still standing at the end
        ([("customer", "解約したいんですけど"), ("agent", "割引がございます"),
          ("customer", "いえ、解約でお願いします")], True),
    ],
)
def test_withdrawn_churn_intent_is_dropped(turns: list[tuple[str, str]], expected: bool) -> None:
    assert ("churn_intent" in call_tags(turns)) is expected


@pytest.mark.parametrize(
    ("turns", "expected"),
    [
        ([("agent", "担当部署におつなぎしましょうか"), ("customer", "いえ、結構です")], False),
        ([("agent", "担当部署におつなぎすることもできますが"), ("customer", "大丈夫です")], False),
        ([("agent", "担当部署におつなぎしましょうか"), ("customer", "はい、お願いします")], True),
        ([("agent", "担当部署におつなぎいたします"), ("customer", "はい")], True),
        ([("agent", "お電話代わりました、技術担当の佐藤です"), ("customer", "はい")], True),
    ],
)
def test_an_offer_is_a_transfer_only_when_accepted(turns: list[tuple[str, str]], expected: bool) -> None:
    assert ("transfer" in call_tags(turns)) is expected


@pytest.mark.parametrize(
    "promise",
    [
        "上の者から本日中にお電話させていただきます",
        "確認が取れ次第ご連絡いたします",
        "担当部署で調査いたしますので、数日お時間をいただけますか",
        "後日改めてご連絡差し上げます",
    ],
)
def test_call_back_promises_at_the_end_are_unresolved(promise: str) -> None:
    turns = [("customer", "請求がおかしいんです"), ("agent", "申し訳ございません"), ("agent", promise),
             ("customer", "わかりました"), ("agent", "失礼いたします")]
    assert "unresolved" in call_tags(turns)


def test_a_pre_hold_request_is_not_unresolved() -> None:
    turns = [("customer", "請求がおかしいんです"), ("agent", "お調べしますのでこのままお待ちください")]
    assert "unresolved" not in call_tags(turns)


def test_evidence_is_the_whole_sentence_with_the_span_marked() -> None:
    utt = mined("もしもし。前にも同じことで電話したんですけど。まだ直らないんです", "customer", 3)
    (hit,) = [h for h in find_tags([utt], RULES) if h.tag == "repeat_contact"]
    assert (hit.utterance_index, hit.start_s) == (3, 3.0)
    assert hit.evidence.startswith("【前にも同じことで電話") and hit.evidence.endswith("けど。")
    assert hit.matched and hit.matched in hit.evidence.replace("【", "").replace("】", "")
    assert "もしもし" not in hit.evidence and "直らない" not in hit.evidence


def test_slip_evidence_shows_what_was_said() -> None:
    (hit,) = find_tags([mined("開約したいんですけど")], RULES)
    assert hit.tag == "churn_intent" and "開約" in hit.evidence and "解約" not in hit.evidence
