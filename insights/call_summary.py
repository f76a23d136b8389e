"""What happened on one call, in a line: the customer's reason, the agent's action and the outcome.

Read from the call's utterances (loaded for a customer's newest calls) and tags:

- *reason*: the customer's first substantive utterance, i.e. the first one that still says something
  once greetings, fillers and name-giving are taken out (「もしもし、山田です」 says nothing about why
  they called);
- *action*: the agent's promise when the call ended ``unresolved`` (the tag's evidence), else the
  transfer's evidence, else the last agent sentence with an action verb (手続き, 変更, お送り, ...) once
  the formulas of politeness (承知いたしました, お待たせいたしました) are taken out;
- *outcome*: ``callback_promised`` when an ``unresolved`` hit is the agent's (a promise to come back),
  ``still_broken`` when the only ``unresolved`` hits are the customer's (「まだ直ってない」), else
  ``resolved``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from insights.labels import OUTCOME_LABELS
from insights.records import CallFacts, CallSummary, CallTag, CallUtterance, NegativeMoment

#: Greetings, back-channels, fillers and name-giving that open a Japanese call without saying why;
#: stripped from an utterance's start only (「二重です」 in the middle of a sentence is a reason).
#: Names are kanji or katakana, so 「山田です」 is an opening and 「困ってるんです」 is not.
_OPENING: Final = re.compile(
    r"^(もしもし|お世話になっております|お世話になります|こんにちは|こんばんは|おはようございます|"
    r"すみません|すいません|恐れ入ります|はい|ええ|えっと|えーと|あのー?|うん|"
    r"(わたくし|私)?[一-龥ァ-ヶー]{1,8}(と申します|と申しますが|と言います|です|ですが|ですけど))"
    r"[、。,.!?！？\s…ー〜]*"
)
_PUNCT: Final = re.compile(r"[、。,.!?！？\s・ー〜…]+")
#: Fewest characters left, after the opening words are taken out, for an utterance to state a reason.
MIN_REASON_CHARS = 6
#: Agent formulas that contain a verb of doing but report no action.
_FORMULAS: Final = re.compile(
    r"(お待たせ(いた)?しました|承知(いた)?しました|かしこまりました|失礼(いた)?しました|"
    r"ありがとうございました|ありがとうございます|申し訳(ござい|あり)ません(でした)?|失礼いたします)"
)
#: Verbs and nouns of an agent doing something for the customer.
_ACTION: Final = re.compile(
    r"(手続き|変更|設定|送付|お送り|発送|返金|交換|再発行|登録|キャンセル|解約|修正|手配|完了|"
    r"受け付け|承りました|おつなぎ|お繋ぎ|ご案内|確認(いた)?し|対応(いた)?し|"
    r"(いた)?しました|しておきました|しております)"
)
_SENTENCE: Final = re.compile(r"[^。!?！？]+[。!?！？]?")
#: Negative moments kept per summary (most negative first).
NEGATIVE_MOMENTS = 5


def plain_evidence(evidence: str) -> str:
    """A tag's evidence sentence without the 【】 marks around the matched span."""
    return evidence.replace("【", "").replace("】", "")


def _speaker(call: CallFacts, hit: CallTag) -> str | None:
    for utterance in call.utterances:
        if utterance.index == hit.utterance_index:
            return utterance.speaker
    return None


def promise_hit(call: CallFacts) -> CallTag | None:
    """The call's ``unresolved`` hit a CSM must follow up: the agent's promise first, else the first hit."""
    hits = [t for t in call.tags if t.tag == "unresolved"]
    return next((h for h in hits if _speaker(call, h) != "customer"), hits[0] if hits else None)


def call_outcome(call: CallFacts) -> str:
    """``resolved``, ``callback_promised`` or ``still_broken`` (module docstring)."""
    hits = [t for t in call.tags if t.tag == "unresolved"]
    if not hits:
        return "resolved"
    speakers = {_speaker(call, hit) for hit in hits}
    # Without the utterances the speaker is unknown: an open "unresolved" still means a promise or a
    # problem left open; the promise reading is the one a CSM must follow up, so it wins.
    return "still_broken" if speakers == {"customer"} else "callback_promised"


def _substantive(text: str) -> bool:
    rest = text.strip()
    while (opening := _OPENING.match(rest)) and opening.end() > 0:
        rest = rest[opening.end() :]
    return len(_PUNCT.sub("", rest)) >= MIN_REASON_CHARS


def call_reason(call: CallFacts) -> CallUtterance | None:
    """The customer's first substantive utterance, ``None`` when none is loaded."""
    return next((u for u in call.utterances if u.speaker == "customer" and _substantive(u.text)), None)


def _action_sentence(utterance: CallUtterance) -> str | None:
    for sentence in reversed(_SENTENCE.findall(utterance.text)):
        if _ACTION.search(_FORMULAS.sub("", sentence)):
            return sentence.strip()
    return None


def call_action(call: CallFacts) -> tuple[str, float] | None:
    """The agent's sentence that says what was done, and where (s); ``None`` when none is found."""
    promise = promise_hit(call)
    if promise is not None and _speaker(call, promise) != "customer":
        return plain_evidence(promise.evidence), promise.start_s
    for hit in call.tags:
        if hit.tag == "transfer" and _speaker(call, hit) != "customer":
            return plain_evidence(hit.evidence), hit.start_s
    for utterance in reversed(call.utterances):
        if utterance.speaker == "agent" and (sentence := _action_sentence(utterance)):
            return sentence, utterance.start_s
    return None


def summarise_call(call: CallFacts) -> CallSummary:
    """The one-line summary of a call: reason, action and outcome (module docstring)."""
    reason = call_reason(call)
    action = call_action(call)
    outcome = call_outcome(call)
    topic = call.topic_labels[0] if call.topic_labels else None
    parts = [f"{call.started_at:%Y-%m-%d}"]
    if topic:
        parts.append(f"［{topic}］")
    parts.append(f"用件「{reason.text}」" if reason else "用件不明")
    parts.append(f"→ 対応「{action[0]}」" if action else "→ 対応不明")
    parts.append(f"→ {OUTCOME_LABELS[outcome]}")
    return CallSummary(
        call_id=call.call_id,
        started_at=call.started_at,
        topic_label=topic,
        reason=reason.text if reason else None,
        reason_start_s=reason.start_s if reason else None,
        action=action[0] if action else None,
        action_start_s=action[1] if action else None,
        outcome=outcome,
        outcome_label=OUTCOME_LABELS[outcome],
        line=" ".join(parts),
    )


def negative_moments(
    calls: Sequence[CallFacts], *, limit: int = NEGATIVE_MOMENTS
) -> tuple[NegativeMoment, ...]:
    """The customer's most negative utterances in ``calls`` (those labelled ``negative`` only).

    Args:
        calls: The calls that make the sentiment trend.
        limit: Moments kept, most negative first (ties: newest call first).

    """
    moments = [
        NegativeMoment(call.call_id, call.started_at, u.index, u.start_s, u.text, u.sentiment)
        for call in calls
        for u in call.utterances
        if u.speaker == "customer" and u.sentiment_label == "negative"
    ]
    moments.sort(key=lambda m: (m.sentiment, -m.started_at.timestamp(), m.start_s))
    return tuple(moments[:limit])
