"""The text-mining stage: ``analyse_call(transcript, metrics, resources=...) -> CallAnalysis``.

Per utterance: normalise -> redact PII -> drop fillers and restore kana spellings (the mining
form) -> tokens and sentiment. Per call: tags (rules + hold metric), categories, sentiment summary,
effort index and the document tokens the topic model fits on. Every text that leaves this stage
(``redacted_text``, tag and category evidence, tokens) is redacted; the raw transcript is kept, or
not, by the caller according to ``TextMiningOptions.raw_text``.

Heavy resources (the fugashi Tagger, the sentiment scorer, compiled rules) are loaded once per
process by :func:`load_text_mining` and passed in; they are never pickled into task results.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from koe.records import CallAnalysis, CallMetrics, Transcript, UtteranceAnalysis
from textmining.categories import CategoryRules, find_categories, load_category_rules
from textmining.effort import effort_index
from textmining.normalise import normalise_text, restore_kanji, strip_fillers
from textmining.pii import redact_call, strip_placeholders
from textmining.rulefile import MinedUtterance
from textmining.sentiment import LexiconScorer, SentimentScorer, score_label
from textmining.sentiment_summary import summarise_sentiment
from textmining.tags import TagRules, find_tags, hold_tags, load_tag_rules
from textmining.tokens import content_tokens, load_tagger, tokenize
from textmining.topic_documents import document_tokens

__all__ = ["TextMiningOptions", "TextMiningResources", "analyse_call", "load_text_mining"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TextMiningOptions:
    """Options of the text-mining stage.

    Attributes:
        tag_rules: Tag rules YAML; ``None`` uses the bundled ``textmining/rules/tags.yaml``.
        categories: Categories YAML; ``None`` uses the bundled ``textmining/rules/categories.yaml``.
        raw_text: Whether the caller keeps unredacted text (served only to the data role);
            ``analyse_call`` itself never emits raw text.
        customer_weight: How many times a customer token counts in the topic document versus
            an agent token (agents repeat scripted phrases).

    """

    tag_rules: Path | None = None
    categories: Path | None = None
    raw_text: bool = False
    customer_weight: int = 2

    @classmethod
    def from_settings(cls, settings: Any) -> TextMiningOptions:
        """Build options from ``koe.settings.Settings`` (``KOE_TAG_RULES``, ``KOE_CATEGORIES``, ...)."""
        return cls(tag_rules=settings.tag_rules, categories=settings.categories, raw_text=settings.raw_text)


@dataclass(frozen=True, slots=True)
class TextMiningResources:
    """Everything ``analyse_call`` needs, loaded once per process.

    Attributes:
        tagger: The fugashi Tagger (unidic-lite).
        scorer: The sentiment scorer (the lexicon scorer, or a trained classifier).
        tag_rules: Compiled tag rules.
        category_rules: Compiled categories.
        options: The options the resources were loaded with.
        rules_version: Short hash of the rules files' content, stored with each analysis so a
            reprocess can tell which calls were mined with older rules.

    """

    tagger: Any
    scorer: SentimentScorer
    tag_rules: TagRules
    category_rules: CategoryRules
    options: TextMiningOptions
    rules_version: str


def rules_version(tag_rules: TagRules, category_rules: CategoryRules) -> str:
    """12 hex digits of SHA-256 over the tag and category rules files' content."""
    digest = hashlib.sha256()
    for text in (tag_rules.text, "\0", category_rules.text):
        digest.update(text.encode("utf-8"))
    return digest.hexdigest()[:12]


def load_text_mining(options: TextMiningOptions, *, scorer: SentimentScorer | None = None) -> TextMiningResources:
    """Load the Tagger, the sentiment scorer and the rules once per process.

    Args:
        options: Paths of the rules files and stage options.
        scorer: A sentiment scorer to use instead of the bundled lexicon scorer (a trained
            classifier, or a fake in tests).

    Returns:
        The resources for :func:`analyse_call`.

    Raises:
        ConfigError: a rules file is missing or invalid (the message names file and rule).
        ModelError: the fugashi dictionary cannot be loaded.

    """
    tagger = load_tagger()
    tag_rules = load_tag_rules(options.tag_rules)
    category_rules = load_category_rules(options.categories)
    return TextMiningResources(
        tagger=tagger,
        scorer=scorer if scorer is not None else LexiconScorer(tagger=tagger),
        tag_rules=tag_rules,
        category_rules=category_rules,
        options=options,
        rules_version=rules_version(tag_rules, category_rules),
    )


def analyse_call(
    transcript: Transcript, metrics: CallMetrics | None, *, resources: TextMiningResources
) -> CallAnalysis:
    """Mine one call.

    Args:
        transcript: The call's utterances (raw text).
        metrics: The call's conversation metrics (holds feed the ``hold`` tag and the effort
            index); ``None`` when there are none (e.g. some imports).
        resources: From :func:`load_text_mining`.

    Returns:
        The call's analysis; every text in it is redacted.

    """
    tagger = resources.tagger
    mined: list[MinedUtterance] = []
    redacted_texts: list[str] = []
    token_lists: list[tuple[str, ...]] = []
    # The redactor reads the whole call: a question sets the context of its answer, and a number
    # or name may be split over a speaker's two turns.
    redactions = redact_call(
        [normalise_text(u.text) for u in transcript.utterances],
        [u.speaker for u in transcript.utterances],
        tagger=tagger,
    )
    pii_count = sum(r.count for r in redactions)
    redaction_errors = sum(r.withheld for r in redactions)
    for index, (utt, redaction) in enumerate(zip(transcript.utterances, redactions, strict=True)):
        mining = restore_kanji(strip_fillers(redaction.text))
        morphemes = tokenize(mining, tagger=tagger)
        mined.append(
            MinedUtterance(
                index=index,
                speaker=utt.speaker,
                start_s=utt.start_s,
                text=mining,
                lemmas=tuple(m.lemma for m in morphemes),
                surfaces=tuple(m.surface for m in morphemes),
            )
        )
        redacted_texts.append(redaction.text)
        token_lists.append(content_tokens(strip_placeholders(mining), tagger=tagger))
    scores = resources.scorer.score([m.text for m in mined]) if mined else []
    utterances = tuple(
        UtteranceAnalysis(
            index=i,
            redacted_text=redacted_texts[i],
            sentiment=float(scores[i]),
            sentiment_label=score_label(float(scores[i])),
            tokens=token_lists[i],
        )
        for i in range(len(mined))
    )
    sentiment = summarise_sentiment(transcript.utterances, scores)
    tags = tuple(sorted(find_tags(mined, resources.tag_rules) + hold_tags(mined, metrics),
                        key=lambda t: (t.utterance_index, t.tag)))
    categories = find_categories(mined, resources.category_rules)
    return CallAnalysis(
        utterances=utterances,
        tags=tags,
        categories=categories,
        sentiment=sentiment,
        effort=effort_index(tags, metrics, sentiment),
        document_tokens=tuple(
            document_tokens(
                transcript.utterances, token_lists, customer_weight=resources.options.customer_weight
            )
        ),
        pii_count=pii_count,
        redaction_errors=redaction_errors,
        rules_version=resources.rules_version,
    )
