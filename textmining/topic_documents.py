"""A call as a topic document, and the customer quotes that show what a topic is about.

A call is one document: its content tokens, the customer's repeated ``customer_weight`` times and
the agent's once, without the agent's scripted phrases.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

from koe.records import Utterance
from textmining.normalise import normalise_text
from textmining.topics import TopicModel, model_arrays, topic_distribution

__all__ = ["AGENT_STOP_PHRASES", "document_tokens", "representative_quotes"]

#: Agent scripts whose words say nothing about why the customer called; their tokens are
#: removed from agent utterances that contain them (only there: 電話 in 「電話が繋がらない」 stays).
AGENT_STOP_PHRASES: tuple[str, ...] = (
    "お電話ありがとうございます",
    "お電話ありがとうございました",
    "お問い合わせありがとうございます",
    "ご利用ありがとうございます",
    "少々お待ちください",
    "お待たせいたしました",
    "お待たせしました",
    "担当の",
    "本人確認のため",
    "ご本人様確認",
    "お名前をお伺い",
    "お名前と生年月日",
    "生年月日をお願いします",
    "ご登録の電話番号",
    "他にご不明な点",
    "他に何かございますか",
    "失礼いたします",
    "申し訳ございません",
    "ご不便をおかけして",
    "ご迷惑をおかけして",
    "確認いたします",
    "確認させていただきます",
    "サポートセンター",
    "カスタマーセンター",
    "お客様センター",
)


@lru_cache(maxsize=1)
def _agent_stop_tokens() -> tuple[tuple[str, tuple[str, ...]], ...]:
    from textmining.tokens import content_tokens

    return tuple((normalise_text(p), content_tokens(p)) for p in AGENT_STOP_PHRASES)


def document_tokens(
    utterances: Sequence[Utterance],
    tokens_per_utterance: Sequence[Sequence[str]],
    *,
    customer_weight: int = 2,
) -> tuple[str, ...]:
    """Build a call's topic document, weighting the customer's words above the agent's.

    Customer tokens are repeated ``customer_weight`` times; agent and unknown-speaker tokens
    appear once, minus the tokens of agent scripts (:data:`AGENT_STOP_PHRASES`) found in that
    utterance.

    Args:
        utterances: The call's utterances.
        tokens_per_utterance: Content tokens of each utterance (same order).
        customer_weight: Repetitions of each customer token (>= 1).

    Returns:
        The document's tokens.

    """
    out: list[str] = []
    for utterance, tokens in zip(utterances, tokens_per_utterance, strict=True):
        if utterance.speaker == "customer":
            out.extend(list(tokens) * max(1, customer_weight))
            continue
        remaining = list(tokens)
        if utterance.speaker == "agent":
            text = normalise_text(utterance.text)
            for phrase, phrase_tokens in _agent_stop_tokens():
                if phrase in text:
                    for token in phrase_tokens:
                        if token in remaining:
                            remaining.remove(token)
        out.extend(remaining)
    return tuple(out)


def representative_quotes(
    model: TopicModel,
    topic_id: int,
    utterances: Sequence[Utterance],
    tokens_per_utterance: Sequence[Sequence[str]],
    *,
    texts: Sequence[str] | None = None,
    n: int = 3,
    min_tokens: int = 2,
) -> tuple[str, ...]:
    """Pick the customer utterances that weigh most on a topic.

    Each customer utterance with at least ``min_tokens`` tokens is projected on the model; the
    score is its weight on the topic times the log of its known-token count (so a quote says
    something, not just one term). Duplicate texts are returned once.

    Args:
        model: The topic model.
        topic_id: Id of the topic.
        utterances: Utterances, from one call or many.
        tokens_per_utterance: Content tokens per utterance.
        texts: Texts to return instead of ``Utterance.text`` (e.g. redacted); same order.
        n: Most quotes returned.
        min_tokens: Fewest content tokens for an utterance to be a quote.

    Returns:
        Up to ``n`` texts, best first.

    """
    column = model.topic_ids.index(topic_id)
    index, _, _ = model_arrays(model)
    shown = texts if texts is not None else [u.text for u in utterances]
    scored: list[tuple[float, str]] = []
    for utterance, tokens, text in zip(utterances, tokens_per_utterance, shown, strict=True):
        known = [t for t in tokens if t in index]
        if utterance.speaker != "customer" or len(known) < min_tokens:
            continue
        weight = float(topic_distribution(model, known)[column])
        if weight > 0:
            scored.append((weight * math.log1p(len(known)), text))
    quotes: list[str] = []
    for _, text in sorted(scored, key=lambda item: -item[0]):
        if text not in quotes:
            quotes.append(text)
        if len(quotes) == n:
            break
    return tuple(quotes)
