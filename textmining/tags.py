"""Effort and frustration tags: YAML rules over the mining form of each utterance, plus holds.

The tag ids are fixed (:data:`TAG_IDS`); the rules that fire them live in ``rules/tags.yaml`` (or a
file named by ``KOE_TAG_RULES``) so that analysts can extend phrasings without code changes. A rule
matches regexes and/or lemma sequences on one utterance, filtered by speaker and position, with an
optional negation guard (「解約はしません」 is not churn intent). ``hold`` comes from
``CallMetrics.holds``: its evidence is the agent's wait request and the hold's length.

The rule machinery (what rules run on, speaker/position checks, YAML validation) is
:mod:`textmining.rulefile`, shared with :mod:`textmining.categories`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from koe.errors import ConfigError
from koe.records import CallMetrics, TagHit
from koe.taxonomy import RULE_TAGS, TAG_IDS
from textmining.grammar import NEGATING_LEMMAS
from textmining.rulefile import (
    MinedUtterance,
    Position,
    check_speaker,
    compile_patterns,
    parse_position,
    read_rules_yaml,
    rule_entries,
    speaker_allows,
)

__all__ = [
    "TagRule",
    "TagRules",
    "find_tags",
    "hold_tags",
    "load_tag_rules",
]



@dataclass(frozen=True, slots=True)
class TagRule:
    """One validated rule of the tags YAML (see the file's header for the fields)."""

    id: str
    tag: str
    speaker: str
    patterns: tuple[re.Pattern[str], ...]
    lemmas: tuple[tuple[str, ...], ...] = ()
    negation: bool = False
    exclude: tuple[re.Pattern[str], ...] = ()
    position: Position = field(default_factory=Position)


@dataclass(frozen=True, slots=True)
class TagRules:
    """The loaded tag rules.

    Attributes:
        rules: Rules in file order.
        negation: The negation guard, matched right after a hit.
        source: Path of the YAML file (for messages).
        text: The file's content (hashed into ``CallAnalysis.rules_version``).

    """

    rules: tuple[TagRule, ...]
    negation: re.Pattern[str]
    source: str
    text: str


# ------------------------------------------------------------------------ YAML helpers
def load_tag_rules(path: Path | None = None) -> TagRules:
    """Load and validate the tag rules YAML.

    Args:
        path: A rules file; ``None`` uses the bundled ``textmining/rules/tags.yaml``.

    Returns:
        The compiled rules.

    Raises:
        ConfigError: naming the file and the rule that is invalid and what to fix.

    """
    source, text, data = read_rules_yaml(path, "tags.yaml")
    negation = compile_patterns([data.get("negation", r"^.{0,6}?(ない|ません)")], source, "negation")[0]
    rules: list[TagRule] = []
    fields = {"id", "tag", "speaker", "patterns", "lemmas", "negation", "exclude", "position"}
    for where, rule_id, raw in rule_entries(data, source, list_key="rules", key_field="id", noun="rule", fields=fields):
        if raw.get("tag") not in RULE_TAGS:
            raise ConfigError(
                f"{where}: tag must be one of {', '.join(RULE_TAGS)} (got {raw.get('tag')!r});"
                " hold comes from the hold metric"
            )
        lemmas = raw.get("lemmas") or []
        if not isinstance(lemmas, list) or not all(
            isinstance(seq, list) and seq and all(isinstance(x, str) for x in seq) for seq in lemmas
        ):
            raise ConfigError(f"{where}: 'lemmas' must be a list of non-empty lists of lemma strings")
        patterns = compile_patterns(raw.get("patterns"), where, "patterns")
        if not patterns and not lemmas:
            raise ConfigError(f"{where}: needs 'patterns' or 'lemmas'")
        rules.append(
            TagRule(
                id=rule_id,
                tag=str(raw["tag"]),
                speaker=check_speaker(raw.get("speaker"), where),
                patterns=patterns,
                lemmas=tuple(tuple(seq) for seq in lemmas),
                negation=bool(raw.get("negation", False)),
                exclude=compile_patterns(raw.get("exclude"), where, "exclude"),
                position=parse_position(raw.get("position"), where),
            )
        )
    return TagRules(rules=tuple(rules), negation=negation, source=source, text=text)


# ------------------------------------------------------------------------ matching
def _match_rule(rule: TagRule, utt: MinedUtterance, negation: re.Pattern[str]) -> str | None:
    """The evidence text if ``rule`` fires on ``utt``, else None."""
    if any(p.search(utt.text) for p in rule.exclude):
        return None
    for pattern in rule.patterns:
        for m in pattern.finditer(utt.text):
            if rule.negation and negation.search(utt.text[m.end():]):
                continue
            return m.group()
    for seq in rule.lemmas:
        n = len(seq)
        for i in range(len(utt.lemmas) - n + 1):
            if utt.lemmas[i:i + n] != seq:
                continue
            if rule.negation and NEGATING_LEMMAS & set(utt.lemmas[i + n:i + n + 4]):
                continue
            return "".join(utt.surfaces[i:i + n]) if utt.surfaces else " ".join(seq)
    return None


def find_tags(utterances: Sequence[MinedUtterance], rules: TagRules) -> tuple[TagHit, ...]:
    """Apply the text rules to a call's utterances.

    Args:
        utterances: The whole call in mining form (redacted), in order.
        rules: From :func:`load_tag_rules`.

    Returns:
        At most one hit per (tag, utterance), in utterance order; evidence is the matched
        (redacted) text and ``rule`` the id of the first rule that fired.

    """
    hits: list[TagHit] = []
    total = len(utterances)
    for utt in utterances:
        fired: set[str] = set()
        for rule in rules.rules:
            if rule.tag in fired or not speaker_allows(rule.speaker, utt.speaker):
                continue
            if not rule.position.allows(utt, total):
                continue
            evidence = _match_rule(rule, utt, rules.negation)
            if evidence is not None:
                fired.add(rule.tag)
                hits.append(TagHit(rule.tag, utt.index, utt.start_s, evidence, rule.id))
    return tuple(hits)


def hold_tags(utterances: Sequence[MinedUtterance], metrics: CallMetrics | None) -> tuple[TagHit, ...]:
    """``hold`` hits from the hold metric.

    Each hold interval is tied to the agent utterance that put the customer on hold (the last
    agent utterance starting before the hold); the evidence is that (redacted) request plus the
    hold length in seconds.

    Args:
        utterances: The call in mining form.
        metrics: The call's metrics; ``None`` (or no holds) gives no hits.

    """
    if metrics is None or not metrics.holds or not utterances:
        return ()
    hits = []
    for hold in metrics.holds:
        before = [u for u in utterances if u.start_s < hold.start_s]
        agent_before = [u for u in before if u.speaker in ("agent", "unknown")]
        utt = (agent_before or before or list(utterances[:1]))[-1]
        evidence = f"{utt.text}（保留 {hold.duration_s:.0f} 秒）"
        hits.append(TagHit("hold", utt.index, utt.start_s, evidence, "hold.metric"))
    return tuple(hits)


def tag_counts(tags: Sequence[TagHit]) -> Mapping[str, int]:
    """Number of hits per tag id (every fixed id present, zero when absent)."""
    counts = dict.fromkeys(TAG_IDS, 0)
    for hit in tags:
        counts[hit.tag] = counts.get(hit.tag, 0) + 1
    return counts
