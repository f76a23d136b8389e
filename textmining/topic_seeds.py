"""Known contact reasons a manager writes down, to guide topic discovery.

A seeds file (``KOE_TOPIC_SEEDS``, YAML) lists the reasons the centre already knows::

    reasons:
      - name: 請求金額・二重請求
        words: [請求, 二重, 引き落とし, 明細]
      - name: 解約・退会
        words: [解約, 退会, 違約金]
        examples: ["他社に乗り換えたいので解約したい"]

Each known reason starts one NMF component from its words (and the content words of its examples);
the fit then refines it on the calls. A reason keeps its name as its label while its words still
lead the topic; the other topics are discovered from the data and flagged 「新しい話題」 in the
report. Words are matched as koe's topic tokens (content-word lemmas, compound nouns whole).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from koe.errors import ConfigError
from textmining.rulefile import read_rules_yaml, rule_entries

__all__ = ["TopicSeed", "load_topic_seeds", "seed_terms"]


@dataclass(frozen=True, slots=True)
class TopicSeed:
    """One known contact reason.

    Attributes:
        name: The reason's name, shown as the topic's label (a short noun phrase).
        words: Words that say the call is about it.
        examples: Sentences a customer might say about it.

    """

    name: str
    words: tuple[str, ...]
    examples: tuple[str, ...] = ()


def _strings(value: object, where: str, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where}: '{field}' must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def load_topic_seeds(path: Path) -> tuple[TopicSeed, ...]:
    """Read and check a seeds file.

    Raises:
        ConfigError: naming the file and the reason that is invalid and what to fix.

    """
    source, _text, data = read_rules_yaml(path, "topic_seeds.yaml")
    seeds = []
    for where, name, raw in rule_entries(
        data, source, list_key="reasons", key_field="name", noun="reason", fields={"name", "words", "examples"}
    ):
        words, examples = _strings(raw.get("words"), where, "words"), _strings(raw.get("examples"), where, "examples")
        if not words and not examples:
            raise ConfigError(f"{where}: give 'words' or 'examples' so koe can recognise the reason")
        seeds.append(TopicSeed(name=name, words=words, examples=examples))
    return tuple(seeds)


def seed_terms(seed: TopicSeed) -> tuple[str, ...]:
    """The seed's words and example words as topic tokens (content-word lemmas), without repeats."""
    from textmining.tokens import content_tokens

    terms: list[str] = []
    for text in (*seed.words, *seed.examples):
        for token in content_tokens(text) or (text,):
            if token not in terms:
                terms.append(token)
    return tuple(terms)
