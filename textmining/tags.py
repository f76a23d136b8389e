"""Effort and frustration tags: YAML rules over the mining form of each utterance, plus holds.

The tag ids are fixed (:data:`TAG_IDS`); the rules that fire them live in ``rules/tags.yaml`` (or a
file named by ``KOE_TAG_RULES``) so that analysts can extend phrasings without code changes. A rule
matches regexes and/or lemma sequences on one utterance, filtered by speaker and position, with an
optional negation guard (「解約はしません」 is not churn intent). ``hold`` comes from
``CallMetrics.holds``: its evidence is the agent's wait request and the hold's length.

The rule machinery (:class:`Position`, :class:`MinedUtterance`, speaker/position checks, YAML
validation helpers) is shared with :mod:`textmining.categories`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from koe.errors import ConfigError
from koe.records import CallMetrics, Speaker, TagHit
from koe.taxonomy import RULE_TAGS, TAG_IDS

__all__ = [
    "MinedUtterance",
    "Position",
    "TagRule",
    "TagRules",
    "find_tags",
    "hold_tags",
    "load_tag_rules",
]

SPEAKER_FILTERS = ("customer", "agent", "any")
# Lemmas that negate the verb before them (UniDic: ません -> ます + ず, ない -> ない).
_NEGATING_LEMMAS = frozenset({"ない", "ず", "ぬ", "ん"})


@dataclass(frozen=True, slots=True)
class MinedUtterance:
    """One utterance in the form rules run on.

    Attributes:
        index: Position in ``Transcript.utterances``.
        speaker: ``agent``, ``customer`` or ``unknown``.
        start_s: Start of the utterance, in seconds.
        text: Normalised, redacted, filler-free text with kana spellings restored to kanji.
        lemmas: Lemmas of every token of ``text`` (all parts of speech), in order.
        surfaces: Surfaces of the same tokens (for lemma-match evidence).

    """

    index: int
    speaker: Speaker
    start_s: float
    text: str
    lemmas: tuple[str, ...] = ()
    surfaces: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Position:
    """Where in the call a rule may fire; any one satisfied condition suffices.

    Attributes:
        last_utterances: Within the last N utterances of the call.
        last_fraction: Within the last fraction (0-1) of the call's utterances.
        first_utterances: Within the first N utterances.
        first_s: Starting within the first N seconds.

    """

    last_utterances: int | None = None
    last_fraction: float | None = None
    first_utterances: int | None = None
    first_s: float | None = None

    def allows(self, utterance: MinedUtterance, total: int) -> bool:
        """Whether ``utterance`` (of ``total`` in the call) is in this position."""
        checks: list[bool] = []
        if self.last_utterances is not None:
            checks.append(utterance.index >= total - self.last_utterances)
        if self.last_fraction is not None:
            checks.append(utterance.index >= total * (1.0 - self.last_fraction))
        if self.first_utterances is not None:
            checks.append(utterance.index < self.first_utterances)
        if self.first_s is not None:
            checks.append(utterance.start_s <= self.first_s)
        return not checks or any(checks)


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
def read_rules_yaml(path: Path | None, default_name: str) -> tuple[str, str, dict[str, Any]]:
    """Read a rules YAML (bundled ``rules/<default_name>`` when ``path`` is None).

    Returns:
        ``(source, text, mapping)``.

    Raises:
        ConfigError: the file is missing, is not YAML, or is not a mapping.

    """
    if path is None:
        source = f"textmining/rules/{default_name}"
        # A plain path next to this module: package data ships under textmining/rules/.
        text = (Path(__file__).parent / "rules" / default_name).read_text(encoding="utf-8")
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{source}: cannot read rules file ({exc.strerror}); check the path") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML ({exc}); fix the syntax") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping with a 'rules' list at the top level")
    return source, text, data


def compile_patterns(values: Any, where: str, field: str) -> tuple[re.Pattern[str], ...]:
    """Compile a list of regexes from YAML, naming the rule on error."""
    if values is None:
        return ()
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ConfigError(f"{where}: '{field}' must be a list of regex strings")
    out = []
    for value in values:
        try:
            out.append(re.compile(value))
        except re.error as exc:
            raise ConfigError(f"{where}: invalid regex in '{field}' {value!r} ({exc}); fix the pattern") from exc
    return tuple(out)


def parse_position(value: Any, where: str) -> Position:
    """Validate a ``position`` mapping."""
    if value is None:
        return Position()
    allowed = {"last_utterances", "last_fraction", "first_utterances", "first_s"}
    if not isinstance(value, dict) or not set(value) <= allowed:
        raise ConfigError(f"{where}: 'position' must be a mapping with keys from {sorted(allowed)}")
    if "last_fraction" in value and not 0 < float(value["last_fraction"]) <= 1:
        raise ConfigError(f"{where}: position.last_fraction must be in (0, 1]")
    return Position(
        last_utterances=_opt_int(value.get("last_utterances")),
        last_fraction=None if value.get("last_fraction") is None else float(value["last_fraction"]),
        first_utterances=_opt_int(value.get("first_utterances")),
        first_s=None if value.get("first_s") is None else float(value["first_s"]),
    )


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def check_speaker(value: Any, where: str) -> str:
    """Validate a ``speaker`` filter (default ``any``)."""
    speaker = "any" if value is None else value
    if speaker not in SPEAKER_FILTERS:
        raise ConfigError(f"{where}: speaker must be one of {', '.join(SPEAKER_FILTERS)} (got {speaker!r})")
    return str(speaker)


def speaker_allows(rule_speaker: str, speaker: Speaker) -> bool:
    """Whether a rule's speaker filter admits ``speaker``; mono (unknown) admits every rule."""
    return rule_speaker == "any" or speaker == "unknown" or rule_speaker == speaker


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
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise ConfigError(f"{source}: expected a non-empty 'rules' list")
    negation = compile_patterns([data.get("negation", r"^.{0,6}?(ない|ません)")], source, "negation")[0]
    rules: list[TagRule] = []
    seen: set[str] = set()
    for n, raw in enumerate(raw_rules, start=1):
        if not isinstance(raw, dict):
            raise ConfigError(f"{source}: rule #{n} must be a mapping")
        rule_id = raw.get("id")
        where = f"{source}: rule {rule_id or '#' + str(n)}"
        if not isinstance(rule_id, str) or not rule_id:
            raise ConfigError(f"{where}: missing 'id'")
        if rule_id in seen:
            raise ConfigError(f"{where}: duplicate id; rule ids must be unique")
        seen.add(rule_id)
        unknown = set(raw) - {"id", "tag", "speaker", "patterns", "lemmas", "negation", "exclude", "position"}
        if unknown:
            raise ConfigError(f"{where}: unknown field(s) {sorted(unknown)}")
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
            if rule.negation and _NEGATING_LEMMAS & set(utt.lemmas[i + n:i + n + 4]):
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
