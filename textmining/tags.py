"""Effort and frustration tags: cue rules with scope over the mining form of each utterance, plus holds.

The tag ids are fixed (:data:`TAG_IDS`); the rules that fire them live in ``rules/tags.yaml`` (or a
file named by ``KOE_TAG_RULES``) so that analysts can extend phrasings without code changes. Three
steps make a hit:

1. cue words are matched on their readings as well as their spelling: homophone ASR slips
   (織り返し, 開約) are respelled first (:mod:`textmining.cues`);
2. a rule matches regexes and/or lemma sequences on one utterance, filtered by speaker and
   position, and its guards check the clause around the match: negated (「解約はしません」),
   hypothetical, about someone else, past, an offer or a redirect (:mod:`textmining.scope`);
3. call-level scope drops what the call takes back: a declined offer, a withdrawn cancellation.

Every hit keeps its evidence: the utterance, its start time and the whole sentence with the
matched span marked 【like this】. ``hold`` comes from ``CallMetrics.holds``: its evidence is the
agent's wait request and the hold's length.

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
from textmining.cues import Cue, load_cues, respell
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
from textmining.scope import GUARDS, Candidate, ScopeRules, call_scope, clause_guards, parse_scope
from textmining.tokens import tokenize

__all__ = [
    "TagRule",
    "TagRules",
    "evidence_sentence",
    "find_tags",
    "hold_tags",
    "load_tag_rules",
]

_SENTENCE_END = re.compile(r"[。!?！？]")


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
    guards: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TagRules:
    """The loaded tag rules.

    Attributes:
        rules: Rules in file order.
        negation: The negation guard, matched right after a hit.
        source: Path of the YAML file (for messages).
        text: The file's content (hashed into ``CallAnalysis.rules_version``).
        cues: Cue words with their readings (homophone slips of them are respelled).
        scope: The scope patterns (hypothetical, third party, offers, withdrawals, ...).

    """

    rules: tuple[TagRule, ...]
    negation: re.Pattern[str]
    source: str
    text: str
    cues: tuple[Cue, ...] = ()
    scope: ScopeRules = field(default_factory=lambda: ScopeRules({}))


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
    cue_words = data.get("cues") or []
    if not isinstance(cue_words, list) or not all(isinstance(w, str) for w in cue_words):
        raise ConfigError(f"{source}: 'cues' must be a list of words (their usual spelling)")
    rules: list[TagRule] = []
    fields = {"id", "tag", "speaker", "patterns", "lemmas", "negation", "exclude", "position", "guards"}
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
        guards = raw.get("guards") or []
        if not isinstance(guards, list) or not set(guards) <= set(GUARDS):
            raise ConfigError(f"{where}: 'guards' must be a list of {', '.join(GUARDS)}")
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
                guards=tuple(guards),
            )
        )
    return TagRules(
        rules=tuple(rules),
        negation=negation,
        source=source,
        text=text,
        cues=load_cues(cue_words),
        scope=parse_scope(data.get("scope"), source),
    )


# ------------------------------------------------------------------------ matching
def _lemma_spans(utt: MinedUtterance, text: str, seq: tuple[str, ...]) -> list[tuple[int, int, int]]:
    """(start, end, end token) of each run of ``seq`` in the utterance's lemmas, in ``text`` offsets."""
    offsets = []
    pos = 0
    for surface in utt.surfaces:
        at = text.find(surface, pos)
        at = pos if at < 0 else at
        offsets.append((at, at + len(surface)))
        pos = at + len(surface)
    n = len(seq)
    out = []
    for i in range(len(utt.lemmas) - n + 1):
        if utt.lemmas[i:i + n] == seq and len(offsets) >= i + n:
            out.append((offsets[i][0], offsets[i + n - 1][1], i + n))
    return out


def _match_rule(rule: TagRule, utt: MinedUtterance, text: str, rules: TagRules) -> tuple[int, int, bool] | None:
    """``(start, end, is_offer)`` of the first match of ``rule`` in ``text`` that its guards admit."""
    if any(p.search(text) for p in rule.exclude):
        return None
    spans: list[tuple[int, int, bool]] = []
    for pattern in rule.patterns:
        for m in pattern.finditer(text):
            if rule.negation and rules.negation.search(text[m.end():]):
                continue
            spans.append((m.start(), m.end(), False))
    for seq in rule.lemmas:
        for start, end, tok_end in _lemma_spans(utt, utt.text, seq):
            if rule.negation and NEGATING_LEMMAS & set(utt.lemmas[tok_end:tok_end + 4]):
                continue
            if text == utt.text:
                spans.append((start, end, False))
    for start, end, _ in sorted(spans):
        guard = clause_guards(rule.guards, rules.scope, text, start, end)
        if guard is None:
            return (start, end, False)
        if guard == "offer":
            return (start, end, True)
    return None


def evidence_sentence(text: str, start: int, end: int) -> str:
    """The sentence of ``text`` that holds ``text[start:end]``, with that span marked 【…】."""
    begin = max((m.end() for m in _SENTENCE_END.finditer(text, 0, start)), default=0)
    after = _SENTENCE_END.search(text, max(end, start + 1) - 1 if end > start else end)
    stop = after.end() if after else len(text)
    stop = max(stop, end)
    return (text[begin:start] + "【" + text[start:end] + "】" + text[end:stop]).strip()


def find_tags(utterances: Sequence[MinedUtterance], rules: TagRules) -> tuple[TagHit, ...]:
    """Apply the text rules to a call's utterances.

    Args:
        utterances: The whole call in mining form (redacted), in order.
        rules: From :func:`load_tag_rules`.

    Returns:
        At most one hit per (tag, utterance), in utterance order; ``evidence`` is the whole
        (redacted) sentence with the matched span marked, ``matched`` the span and ``rule`` the
        id of the first rule that fired.

    """
    total = len(utterances)
    spelled = [respell(u.text, rules.cues, tokenize(u.text)) for u in utterances]
    candidates: list[Candidate] = []
    for utt, form in zip(utterances, spelled, strict=True):
        fired: set[str] = set()
        for rule in rules.rules:
            if rule.tag in fired or not speaker_allows(rule.speaker, utt.speaker):
                continue
            if not rule.position.allows(utt, total):
                continue
            found = _match_rule(rule, utt, form.text, rules)
            if found is not None:
                fired.add(rule.tag)
                candidates.append(Candidate(rule.tag, utt.index, found[0], found[1], rule.id, offer=found[2]))
    by_index = {u.index: i for i, u in enumerate(utterances)}
    texts = {u.index: f.text for u, f in zip(utterances, spelled, strict=True)}
    kept = call_scope(candidates, utterances, texts, rules.scope)
    hits = []
    for cand in kept:
        utt = utterances[by_index[cand.utterance]]
        start, end = spelled[by_index[cand.utterance]].original_span(cand.start, cand.end)
        hits.append(
            TagHit(
                cand.tag, utt.index, utt.start_s, evidence_sentence(utt.text, start, end), cand.rule,
                matched=utt.text[start:end],
            )
        )
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
