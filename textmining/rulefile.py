"""Rule files: what tag and category rules run on, and the YAML validation they share.

Both ``rules/tags.yaml`` and ``rules/categories.yaml`` are a list of entries, each a mapping with a
unique key (a rule's ``id``, a category's ``name``), a speaker filter, a position and regex patterns.
Every error names the file, the entry and what to fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from koe.errors import ConfigError
from koe.records import Speaker

__all__ = [
    "SPEAKER_FILTERS",
    "MinedUtterance",
    "Position",
    "check_speaker",
    "compile_patterns",
    "parse_position",
    "read_rules_yaml",
    "rule_entries",
    "speaker_allows",
]

SPEAKER_FILTERS = ("customer", "agent", "any")


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


def rule_entries(
    data: dict[str, Any], source: str, *, list_key: str, key_field: str, noun: str, fields: set[str]
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """The entries of a rule file's ``list_key`` list, each checked for shape, key and fields.

    Args:
        data: The parsed YAML document.
        source: The file, for messages.
        list_key: The top-level list (``rules``, ``categories``).
        key_field: The field that names an entry and must be unique (``id``, ``name``).
        noun: What an entry is called in messages (``rule``, ``category``).
        fields: Every field an entry may have (``key_field`` included).

    Yields:
        ``(where, key, entry)``: a message prefix naming the entry, its key and the mapping.

    Raises:
        ConfigError: when the list is missing or empty, an entry is not a mapping, its key is
            missing or repeated, or it has a field not in ``fields``.

    """
    entries = data.get(list_key)
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{source}: expected a non-empty '{list_key}' list")
    seen: set[str] = set()
    for n, raw in enumerate(entries, start=1):
        if not isinstance(raw, dict):
            raise ConfigError(f"{source}: {noun} #{n} must be a mapping")
        key = raw.get(key_field)
        where = f"{source}: {noun} {key or '#' + str(n)}"
        if not isinstance(key, str) or not key:
            raise ConfigError(f"{where}: missing '{key_field}'")
        if key in seen:
            raise ConfigError(f"{where}: duplicate {key_field}; {noun} {key_field}s must be unique")
        seen.add(key)
        unknown = set(raw) - fields
        if unknown:
            raise ConfigError(f"{where}: unknown field(s) {sorted(unknown)}")
        yield where, key, raw
