"""The scope of a tag cue: whether it is meant and still stands, or is negated, hypothetical or offered.

A cue word alone is not a signal. 「解約したい」 is churn intent; 「解約はしません」 (negated),
「もし解約したら違約金は」 (hypothetical), 「母の回線を解約したい」 (about someone else),
「前に別の回線を解約した」 (past, done) and 「解約したいと言いましたが、続けます」 (withdrawn later in the
call) are not. 「担当部署におつなぎしましょうか」 is an offer: it is a transfer only if the customer
accepts it, and 「いえ、結構です」 declines it.

Guards look at the sentence around the match (split at 。!?; a third party is looked for anywhere
before it in the utterance); call-level scope looks at what follows in the call. The patterns are
Japanese grammar, not phrasings of one data set, and live in ``rules/tags.yaml`` (``scope:``)
so an analyst can extend them. :func:`clause_guards` and :func:`call_scope` are used by
:mod:`textmining.tags`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from koe.errors import ConfigError
from textmining.rulefile import MinedUtterance, compile_patterns

__all__ = ["GUARDS", "Candidate", "ScopeRules", "call_scope", "clause_guards", "parse_scope"]

#: Guards a rule may ask for (``guards:`` in the YAML), besides ``negation``.
GUARDS = ("hypothetical", "third_party", "past", "offer", "redirect", "question")
_KEYS = (
    "hypothetical_before", "hypothetical_after", "third_party_before", "past_after", "offer_after",
    "redirect", "question_after", "accept", "decline", "withdrawal",
)
_SENTENCE_END = re.compile(r"[。!?！？]")


@dataclass(frozen=True, slots=True)
class ScopeRules:
    """Compiled scope patterns (``scope:`` in the tags YAML); a missing key never matches."""

    patterns: Mapping[str, re.Pattern[str]]

    def search(self, key: str, text: str) -> bool:
        """Whether pattern ``key`` is found in ``text``."""
        pattern = self.patterns.get(key)
        return bool(pattern and pattern.search(text))

    def match(self, key: str, text: str) -> bool:
        """Whether pattern ``key`` matches at the start of ``text``."""
        pattern = self.patterns.get(key)
        return bool(pattern and pattern.match(text))


@dataclass(frozen=True, slots=True)
class Candidate:
    """A rule match on one utterance before call-level scope.

    Attributes:
        tag: Tag id.
        utterance: Position of the utterance in the call.
        start: Start of the match in the respelled text.
        end: End of the match in the respelled text.
        rule: Rule id.
        offer: The match is an offer (kept only if the customer accepts it).

    """

    tag: str
    utterance: int
    start: int
    end: int
    rule: str
    offer: bool = False


def parse_scope(value: Any, source: str) -> ScopeRules:
    """Validate and compile the ``scope:`` mapping of the tags YAML."""
    if value is None:
        return ScopeRules({})
    if not isinstance(value, dict) or not set(value) <= set(_KEYS):
        raise ConfigError(f"{source}: 'scope' must be a mapping with keys from {list(_KEYS)}")
    out = {}
    for key, regex in value.items():
        out[key] = compile_patterns([regex], f"{source}: scope", key)[0]
    return ScopeRules(out)


def clause_around(text: str, start: int, end: int) -> tuple[str, str]:
    """The clause before the match (from the sentence start) and after it (to the sentence end)."""
    begin = max((m.end() for m in _SENTENCE_END.finditer(text, 0, start)), default=0)
    after = _SENTENCE_END.search(text, end)
    return text[begin:start], text[end:after.start() if after else len(text)]


def clause_guards(guards: Sequence[str], scope: ScopeRules, text: str, start: int, end: int) -> str | None:
    """The first guard that rejects the match ``text[start:end]``, ``"offer"`` for an offer, else None.

    Args:
        guards: The rule's guards (see :data:`GUARDS`).
        scope: Compiled scope patterns.
        text: The utterance (respelled mining form).
        start: Start of the match.
        end: End of the match.

    """
    before, after = clause_around(text, start, end)
    checks = {
        "hypothetical": lambda: scope.search("hypothetical_before", before) or scope.match("hypothetical_after", after),
        "third_party": lambda: scope.search("third_party_before", text[:start]),
        "past": lambda: scope.match("past_after", after),
        "redirect": lambda: scope.search("redirect", before + text[start:end] + after),
        "question": lambda: scope.match("question_after", after),
        "offer": lambda: scope.match("offer_after", after),
    }
    for guard in guards:
        if guard in checks and checks[guard]():
            return guard
    return None


def _next_customer(utterances: Sequence[MinedUtterance], position: int, within: int = 3) -> MinedUtterance | None:
    for utt in utterances[position + 1:position + 1 + within]:
        if utt.speaker != "agent":
            return utt
    return None


def call_scope(
    candidates: Sequence[Candidate],
    utterances: Sequence[MinedUtterance],
    texts: Mapping[int, str],
    scope: ScopeRules,
) -> list[Candidate]:
    """Drop candidates that the rest of the call takes back.

    - an offer (``offer``) stands only when the customer's next turn accepts it and does not
      decline it;
    - a customer's ``churn_intent`` is dropped when the customer withdraws it after the last
      churn cue: later in the same utterance or in a later turn.

    Args:
        candidates: Utterance-level matches, in utterance order.
        utterances: The call in mining form.
        texts: The respelled text of each utterance, by utterance index.
        scope: Compiled scope patterns.

    Returns:
        The candidates that stand.

    """
    position = {u.index: i for i, u in enumerate(utterances)}
    kept: list[Candidate] = []
    for cand in candidates:
        if cand.offer:
            reply = _next_customer(utterances, position[cand.utterance])
            if reply is None or scope.search("decline", texts[reply.index]) or not scope.search(
                "accept", texts[reply.index]
            ):
                continue
        kept.append(cand)
    churn = [c for c in kept if c.tag == "churn_intent"]
    if churn:
        last = churn[-1]
        tails = [texts[last.utterance][last.end:]] + [
            texts[u.index] for u in utterances[position[last.utterance] + 1:] if u.speaker != "agent"
        ]
        if any(scope.search("withdrawal", tail) for tail in tails):
            kept = [c for c in kept if c.tag != "churn_intent"]
    return kept
