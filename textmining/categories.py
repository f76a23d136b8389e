"""Rule-based call categories from a YAML file (``rules/categories.yaml`` or ``KOE_CATEGORIES``).

Categories sit beside the discovered topics: analysts name them, write phrase patterns with
speaker and position constraints (like Contact Lens or Genesys categories), and reprocessing
re-applies an edited file to all history. A category applies to a call when at least
``min_hits`` utterances match; its evidence is the first matching utterance.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from koe.errors import ConfigError
from koe.records import CategoryHit
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

__all__ = ["CategoryRule", "CategoryRules", "find_categories", "load_category_rules"]


@dataclass(frozen=True, slots=True)
class CategoryRule:
    """One validated category (see the YAML header for the fields)."""

    name: str
    speaker: str
    patterns: tuple[re.Pattern[str], ...]
    exclude: tuple[re.Pattern[str], ...] = ()
    position: Position = field(default_factory=Position)
    min_hits: int = 1


@dataclass(frozen=True, slots=True)
class CategoryRules:
    """The loaded categories, the file they came from and its content (for ``rules_version``)."""

    categories: tuple[CategoryRule, ...]
    source: str
    text: str


def load_category_rules(path: Path | None = None) -> CategoryRules:
    """Load and validate the categories YAML.

    Args:
        path: A categories file; ``None`` uses the bundled ``textmining/rules/categories.yaml``.

    Returns:
        The compiled categories.

    Raises:
        ConfigError: naming the file and the category that is invalid and what to fix.

    """
    source, text, data = read_rules_yaml(path, "categories.yaml")
    out: list[CategoryRule] = []
    fields = {"name", "speaker", "patterns", "exclude", "position", "min_hits"}
    for where, name, raw in rule_entries(
        data, source, list_key="categories", key_field="name", noun="category", fields=fields
    ):
        patterns = compile_patterns(raw.get("patterns"), where, "patterns")
        if not patterns:
            raise ConfigError(f"{where}: needs at least one pattern")
        min_hits = raw.get("min_hits", 1)
        if not isinstance(min_hits, int) or min_hits < 1:
            raise ConfigError(f"{where}: min_hits must be a positive integer")
        out.append(
            CategoryRule(
                name=name,
                speaker=check_speaker(raw.get("speaker"), where),
                patterns=patterns,
                exclude=compile_patterns(raw.get("exclude"), where, "exclude"),
                position=parse_position(raw.get("position"), where),
                min_hits=min_hits,
            )
        )
    return CategoryRules(categories=tuple(out), source=source, text=text)


def find_categories(utterances: Sequence[MinedUtterance], rules: CategoryRules) -> tuple[CategoryHit, ...]:
    """Categories that apply to a call.

    Args:
        utterances: The whole call in mining form (redacted), in order.
        rules: From :func:`load_category_rules`.

    Returns:
        One hit per applying category, in file order, with the first matching utterance as
        evidence (the matched, redacted text).

    """
    hits: list[CategoryHit] = []
    total = len(utterances)
    for rule in rules.categories:
        matches: list[tuple[MinedUtterance, str]] = []
        for utt in utterances:
            if not speaker_allows(rule.speaker, utt.speaker) or not rule.position.allows(utt, total):
                continue
            if any(p.search(utt.text) for p in rule.exclude):
                continue
            found = next((m for p in rule.patterns if (m := p.search(utt.text))), None)
            if found:
                matches.append((utt, found.group()))
        if len(matches) >= rule.min_hits:
            utt, evidence = matches[0]
            hits.append(CategoryHit(rule.name, utt.index, utt.start_s, evidence))
    return tuple(hits)
