"""PII redaction for Japanese call transcripts.

``redact_call(texts, speakers)`` replaces personal data in a call's utterances with typed
placeholders, so that mining, reports and the API only ever see redacted text. It reads the call,
not one utterance: what the last turns asked for (「生年月日をお願いします」 then 「昭和六十年…」),
and a number, address or name a speaker splits over two turns (「電話は090-1234」 then 「5678です」).
``redact(text)`` is one utterance on its own.

==================  ===============================================================================
Placeholder         What it replaces (detectors: :mod:`textmining.pii_numbers`,
                    :mod:`textmining.addresses`, :mod:`textmining.names`, :mod:`textmining.spoken`)
==================  ===============================================================================
［電話番号］        10-11 digit numbers starting with 0, or ``+81``, in any digit form (ASCII, kanji
                    〇九〇, spoken ゼロキューゼロ); shorter runs after 電話/携帯/連絡先 or when asked
［メールアドレス］  written (``user@example``) and spoken (``user アットマーク example ドット com``)
［カード番号］      13-19 digits that pass the Luhn check; any run after カード/有効期限
［口座番号］        digits after 口座/普通/当座/支店 (bank account, branch)
［番号］            other long digit runs (>= 8 digits) and member, customer, contract and policy
                    numbers after their cue (letters and digits mixed: AB123456)
［郵便番号］        ``〒123-4567``, or 7 digits in any form after 郵便番号
［生年月日］        dates of birth (昭和六十年五月三日, 1985年5月3日, S60.5.3) by cue, question or 生まれ
［住所］            block numbers with the place before them and the building and room after them
［氏名］            names by how they are said (と申します, 様/さん, 名前は, an answer to a name
                    question); not the agent's own name in a self-introduction
［非表示］          the whole utterance, when a detector failed on it (redaction fails closed)
==================  ===============================================================================

Spans are found on a width-folded copy of the text that keeps character offsets (each character is
NFKC-folded only when that yields one character), so full-width digits and ASR output without
punctuation work without changing the text outside the placeholders.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from textmining.addresses import address_spans
from textmining.names import NameLexicon, NameScan, agent_own_names, load_name_lexicon, name_spans
from textmining.pii_numbers import birthdate_spans, cued_kinds, digit_spans, luhn_valid
from textmining.spoken import spoken_addresses, spoken_domain_tail

__all__ = ["PLACEHOLDERS", "PiiSpan", "RedactionResult", "luhn_valid", "redact", "redact_call", "strip_placeholders"]

logger = logging.getLogger(__name__)

PLACEHOLDERS: dict[str, str] = {
    "phone": "［電話番号］",
    "email": "［メールアドレス］",
    "card": "［カード番号］",
    "account": "［口座番号］",
    "number": "［番号］",
    "postal": "［郵便番号］",
    "birthdate": "［生年月日］",
    "address": "［住所］",
    "name": "［氏名］",
    "withheld": "［非表示］",
}


@dataclass(frozen=True, slots=True)
class PiiSpan:
    """One redacted span.

    Attributes:
        kind: A key of :data:`PLACEHOLDERS` (``phone``, ``email``, ``name``, ...).
        start: Start offset in the input text (characters).
        end: End offset (exclusive) in the input text (characters).
        text: The original text of the span.

    """

    kind: str
    start: int
    end: int
    text: str

    @property
    def placeholder(self) -> str:
        """The typed placeholder that replaces this span (［電話番号］, ...)."""
        return PLACEHOLDERS[self.kind]


@dataclass(frozen=True, slots=True)
class RedactionResult:
    """Redacted text and what was removed from it.

    Attributes:
        text: The input with every PII span replaced by its placeholder; ［非表示］ alone when a
            detector failed on the utterance.
        spans: The redacted spans, in input order, with offsets into the input.
        error: Why the utterance was withheld (the exception's type and message; never its text),
            or ``""``.

    """

    text: str
    spans: tuple[PiiSpan, ...] = ()
    error: str = field(default="")

    @property
    def count(self) -> int:
        """Number of redacted spans."""
        return len(self.spans)

    @property
    def withheld(self) -> bool:
        """Whether a detector failed and the whole utterance was withheld."""
        return bool(self.error)


# ---------------------------------------------------------------------------- cues and context
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*")
_POSTAL = re.compile(r"(?<![0-9A-Za-z\-])[0-9]{3}-[0-9]{4}(?![0-9A-Za-z\-])|〒\s*[0-9]{3}\s*[\-ー]?\s*[0-9]{4}(?![0-9])|(?<=郵便番号)[0-9]{3}[\-ー]?[0-9]{4}(?![0-9])"
                     r"|(?<=郵便番号[はがをの:])\s*[0-9]{3}[\-ー]?[0-9]{4}(?![0-9])")
_NAME_ASKED = re.compile(r"お?名前|氏名|フルネーム|名義|フリガナ|ふりがな|カタカナ|漢字|読み方|お読み|どなた|ご本人様")
_ADDRESS_ASKED = re.compile(r"住所|お住まい|お届け先|送り先|配送先|届け先|番地|丁目|市区町村|都道府県")
_EMAIL_ASKED = re.compile(r"メール|アドレス")
# What may close a turn after the detail it ends on (「…5678です。」).
# One way only to read each tail (no alternative is two others joined), and only the last
# characters are tried: both keep this linear.
_TURN_TAIL = re.compile(r"(?:です|でした|になります|で|ね|よ|と|、|。|\s|\?|？)*")
_TAIL_CHARS = 12
#: How many turns back a question still sets the context of an answer.
CONTEXT_TURNS = 2


def _fold(text: str) -> str:
    """NFKC-fold each character where that keeps one character (offsets stay aligned)."""
    out = []
    for ch in text:
        folded = unicodedata.normalize("NFKC", ch)
        out.append(folded if len(folded) == 1 else ch)
    return "".join(out).replace("−", "-").replace("‐", "-").replace("－", "-")


def _asked(text: str) -> set[str]:
    """The kinds of detail ``text`` asks for or announces (電話番号は…, お名前を…)."""
    kinds = {kind for kind, _ in cued_kinds(text)}
    if _NAME_ASKED.search(text):
        kinds.add("name")
    if _ADDRESS_ASKED.search(text):
        kinds.add("address")
    if _EMAIL_ASKED.search(text):
        kinds.add("email")
    return kinds


def _spans(folded: str, scan: NameScan, context: frozenset[str], lexicon: NameLexicon, tagger: Any) -> list[tuple[str, int, int]]:
    """Every candidate span of one utterance, more specific detectors first (they win overlaps)."""
    found: list[tuple[str, int, int]] = []
    found += [("email", m.start(), m.end()) for m in _EMAIL.finditer(folded)]
    found += [("email", a.start, a.end) for a in spoken_addresses(folded)]
    if "email" in context and (tail := spoken_domain_tail(folded)) is not None:
        found.append(("email", tail.start, tail.end))
    found += [("postal", m.start(), m.end()) for m in _POSTAL.finditer(folded)]
    found += digit_spans(folded, context, cued=False)
    found += birthdate_spans(folded, context)
    found += address_spans(folded, "address" in context)
    found += digit_spans(folded, context, shaped=False)
    found += [("name", s, e) for s, e in name_spans(folded, scan, lexicon=lexicon, tagger=tagger)]
    return found


def _ends_on(spans: list[tuple[str, int, int]], text: str) -> set[str]:
    """Kinds of the spans that close ``text`` (nothing but です, 。 and the like after them)."""
    return {kind for kind, _, end in spans if len(text) - end <= _TAIL_CHARS and _TURN_TAIL.fullmatch(text, end)}


def _choose(found: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    chosen: list[tuple[str, int, int]] = []
    for kind, start, end in found:
        if end <= start or any(start < e and s < end for _, s, e in chosen):
            continue
        chosen.append((kind, start, end))
    return sorted(chosen, key=lambda span: span[1])


def _result(text: str, chosen: list[tuple[str, int, int]]) -> RedactionResult:
    out, pos, spans = [], 0, []
    for kind, start, end in chosen:
        out.append(text[pos:start])
        out.append(PLACEHOLDERS[kind])
        spans.append(PiiSpan(kind=kind, start=start, end=end, text=text[start:end]))
        pos = end
    out.append(text[pos:])
    return RedactionResult(text="".join(out), spans=tuple(spans))


def _withheld(exc: BaseException) -> RedactionResult:
    return RedactionResult(text=PLACEHOLDERS["withheld"], error=f"{type(exc).__name__}: {exc}"[:200])


def _previous_same(roles: Sequence[str], i: int) -> int | None:
    """The speaker's previous turn, if no more than one turn of the other side came between."""
    for j in (i - 1, i - 2):
        if j >= 0 and roles[j] == roles[i]:
            return j
    return None


def _joined_spans(a: str, b: str, context: frozenset[str]) -> tuple[list[tuple[str, int, int]], list[tuple[str, int, int]]]:
    """Numbers and e-mail addresses that run from the end of turn ``a`` into turn ``b``."""
    joined = f"{a} {b}"
    cut = len(a) + 1
    found = [("email", m.start(), m.end()) for m in _EMAIL.finditer(joined)]
    found += [("email", x.start, x.end) for x in spoken_addresses(joined)]
    found += digit_spans(joined, context)
    first, second = [], []
    for kind, start, end in found:
        if start < len(a) and end > cut:
            first.append((kind, start, len(a)))
            second.append((kind, 0, end - cut))
    return first, second


def redact_call(
    texts: Sequence[str],
    speakers: Sequence[str] | None = None,
    *,
    tagger: Any = None,
    lexicon: NameLexicon | None = None,
) -> list[RedactionResult]:
    """Replace PII in a call's utterances with typed placeholders.

    Args:
        texts: The call's utterances in order (raw or normalised; widths may be mixed,
            punctuation may be missing).
        speakers: Each utterance's speaker (``agent``, ``customer``, ``unknown``); ``None``: all
            unknown, where every self-introduction is redacted (the agent's own is kept only when
            the agent is known).
        tagger: Optional fugashi ``Tagger`` (or an object with a ``tagger`` attribute holding one):
            UniDic's person-name tag confirms names the cues alone leave open.
        lexicon: The name lists; ``None`` loads them (:func:`textmining.names.load_name_lexicon`).

    Returns:
        One result per utterance: the redacted text and the spans removed (offsets into the
        input). Earlier, more specific detectors win overlaps. Redaction fails closed: when a
        detector raises on an utterance, its result is ［非表示］ with ``error`` set, and the
        failure is logged (never the text).

    """
    roles = [s if s in ("agent", "customer") else "unknown" for s in (speakers or ["unknown"] * len(texts))]
    folded = [_fold(t) if t else "" for t in texts]
    names = lexicon if lexicon is not None else load_name_lexicon()
    agent_names = frozenset(n for f, r in zip(folded, roles, strict=True) if r == "agent" for n in agent_own_names(f))
    asked = [_asked(f) for f in folded]
    found: list[list[tuple[str, int, int]]] = [[] for _ in texts]
    errors: dict[int, BaseException] = {}
    for i, text in enumerate(folded):
        if not text:
            continue
        context = set().union(*asked[max(0, i - CONTEXT_TURNS) : i])
        prev = _previous_same(roles, i)
        if prev is not None and prev not in errors:
            context |= _ends_on(found[prev], folded[prev])
        scan = NameScan(role=roles[i], asked="name" in context, agent_names=agent_names)
        try:
            found[i] += _spans(text, scan, frozenset(context), names, tagger)
            if prev is not None and folded[prev] and prev not in errors:
                first, second = _joined_spans(folded[prev], text, frozenset(context | asked[prev]))
                found[prev] += first
                found[i] += second
        except Exception as exc:  # fail closed: withhold the utterance, never "no PII found"
            errors[i] = exc
            logger.error("PII redaction failed on utterance %d (%s); the utterance is withheld", i, type(exc).__name__)
    results = []
    for i, text in enumerate(texts):
        if i in errors:
            results.append(_withheld(errors[i]))
        elif not text:
            results.append(RedactionResult(text=text))
        else:
            results.append(_result(text, _choose(found[i])))
    return results


def redact(text: str, *, tagger: Any = None, speaker: str = "unknown") -> RedactionResult:
    """Replace PII in one utterance with typed placeholders (no call context).

    Args:
        text: One utterance (raw or normalised; widths may be mixed, punctuation may be missing).
        tagger: Optional fugashi ``Tagger``; see :func:`redact_call`.
        speaker: ``agent``, ``customer`` or ``unknown`` (the default: every self-introduction is
            redacted).

    Returns:
        The redacted text and the spans removed; ［非表示］ with ``error`` set when a detector failed.

    """
    return redact_call([text], [speaker], tagger=tagger)[0]


# Later normalisation (NFKC in strip_fillers) may fold ［］ to [], so both widths are matched.
_PLACEHOLDER_RE = re.compile(
    "[［\\[](?:"
    + "|".join(re.escape(p.strip("［］")) for p in sorted(set(PLACEHOLDERS.values()), key=len, reverse=True))
    + ")[］\\]]"
)


def strip_placeholders(text: str) -> str:
    """Replace PII placeholders with a pause mark, for topic mining.

    A placeholder says *that* something was redacted, not what the call is about: tokenised, it would
    make 「氏名」 or 「メールアドレス」 a top topic term in every call where a name was spoken.
    """
    return _PLACEHOLDER_RE.sub("、", text)
