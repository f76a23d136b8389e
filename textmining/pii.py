"""PII redaction for Japanese call transcripts.

``redact(text)`` replaces personal data with typed placeholders so that mining, reports and the
API only ever see redacted text:

============  =====================================================================================
Placeholder   What it replaces
============  =====================================================================================
［電話番号］  10-11 digit numbers starting with 0, or ``+81``; ASCII/full-width digits, kanji
              numerals (〇九〇…), spoken digits (ゼロキューゼロ, まるきゅうまる); ``-``, space, の between
［メールアドレス］ ``user@example.com`` (also cut short: ``user@example``) and spoken ``user アットマーク example
              ドット com`` (with アットマーク also without the domain's dots)
［カード番号］ 13-19 digits that pass the Luhn check, with or without spaces/hyphens
［番号］      other long digit runs (>= 8 digits: contract, customer and account numbers) and numbers
              after お客様番号/契約番号/会員番号 (>= 6 digits). Un-Luhn 13-19 digit runs land here: they
              are identifiers, not card numbers, but still personal.
［郵便番号］  ``〒123-4567``, or ``123-4567`` within a few characters after 郵便番号
［住所］      prefecture + municipality + block number (東京都港区芝公園4-2-8, …1丁目2番3号),
              or a ward/city + block number without prefecture
［氏名］      names before 〜と申します / 〜が承ります, before 〜様 / 〜さん (honorific kept outside the
              placeholder), and before 〜です when a cue (担当の, もしもし, 名前は) or the tagger's
              person-name tag says it is a self-introduction
============  =====================================================================================

Spans are found on a width-folded copy of the text that keeps character offsets (each character is
NFKC-folded only when that yields one character), so full-width digits and ASR output without
punctuation work without changing the text outside the placeholders.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from textmining.spoken import DIGIT_WORDS, KANJI_DIGITS, spoken_addresses

PLACEHOLDERS: dict[str, str] = {
    "phone": "［電話番号］",
    "email": "［メールアドレス］",
    "card": "［カード番号］",
    "number": "［番号］",
    "postal": "［郵便番号］",
    "address": "［住所］",
    "name": "［氏名］",
}


@dataclass(frozen=True, slots=True)
class PiiSpan:
    """One redacted span.

    Attributes:
        kind: ``phone``, ``email``, ``card``, ``number``, ``postal``, ``address`` or ``name``.
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
        text: The input with every PII span replaced by its placeholder.
        spans: The redacted spans, in input order, with offsets into the input.

    """

    text: str
    spans: tuple[PiiSpan, ...] = ()

    @property
    def count(self) -> int:
        """Number of redacted spans."""
        return len(self.spans)


# --------------------------------------------------------------------------------- patterns
_PREFS = (
    "北海道|青森県|岩手県|宮城県|秋田県|山形県|福島県|茨城県|栃木県|群馬県|埼玉県|千葉県|東京都|神奈川県|"
    "新潟県|富山県|石川県|福井県|山梨県|長野県|岐阜県|静岡県|愛知県|三重県|滋賀県|京都府|大阪府|兵庫県|"
    "奈良県|和歌山県|鳥取県|島根県|岡山県|広島県|山口県|徳島県|香川県|愛媛県|高知県|福岡県|佐賀県|長崎県|"
    "熊本県|大分県|宮崎県|鹿児島県|沖縄県"
)
_KANJI_NUM = "〇零一二三四五六七八九十"
# Block numbers: 4-2-8, 1丁目2番3号, 北1条西2丁目1, 3丁目15-1, 12番地.
_BLOCK = rf"[0-9{_KANJI_NUM}]+(?:(?:丁目|番地|番|号|条|-|の)[0-9{_KANJI_NUM}]*)+|[0-9]+(?:番地)?"
_PLACE = r"[一-龥々ぁ-んァ-ヶー]"
_ADDRESS = re.compile(
    rf"(?:{_PREFS})\s*{_PLACE}{{1,10}}?[市区町村郡]{_PLACE}{{0,12}}?[東西南北]?(?:{_BLOCK})"
    rf"|[一-龥々]{{1,5}}[市区][一-龥々ぁ-んァ-ヶー]{{1,10}}?(?:[0-9]+(?:丁目|-)[0-9]+(?:(?:番|-)[0-9]+号?)?)"
)
# The domain may be cut short: Whisper often ends an utterance after 「…@example」 and puts the
# 「.jp」 in the next one, and the part before the @ is what identifies the person.
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*")
# Digit runs with the separators people and ASR put between groups.
_DIGIT_RUN = re.compile(r"(?<![0-9])(?:\+81[\s\-]?)?[0-9](?:[\s\-‐ー()の]?[0-9]){6,22}(?![0-9])")
_POSTAL = re.compile(r"〒\s*[0-9]{3}\s*[\-ー]?\s*[0-9]{4}(?![0-9])|(?<=郵便番号)[0-9]{3}[\-ー]?[0-9]{4}(?![0-9])"
    r"|(?<=郵便番号[はがをの:])\s*[0-9]{3}[\-ー]?[0-9]{4}(?![0-9])")
_ACCOUNT = re.compile(r"(?:お客様番号|契約番号|会員番号|顧客番号|注文番号|お問い合わせ番号|ID)[はがの:]?\s*([0-9A-Za-z\-]{6,})")
# Spoken and kanji digits (textmining.spoken); longer alternatives first so ゴー is not read as
# ゴ + separator. A run needs 9 or more, so the one-mora particles (に, ご, く) may be inside one.
_UNIT_TO_DIGIT = DIGIT_WORDS | KANJI_DIGITS
_UNIT_ALTS = "|".join(sorted(_UNIT_TO_DIGIT, key=len, reverse=True))
_SPOKEN_DIGITS = re.compile(rf"(?:(?:{_UNIT_ALTS})[\s\-、の]?){{9,22}}")
_UNIT_ITER = re.compile(_UNIT_ALTS)

_NAME_RUN = r"(?:[一-龥々]{1,6}|[ァ-ヶ][ァ-ヶー]{1,7})"
_NAME_BEFORE_SELF = re.compile(rf"{_NAME_RUN}(?=\s*(?:と申し|ともうし|が承り|がうけたまわり))")
_NAME_BEFORE_HONORIFIC = re.compile(r"[一-龥々]{1,6}(?=\s*(?:様(?![々子])|さま|さん|殿))")
_NAME_BEFORE_DESU = re.compile(r"[一-龥々]{1,6}(?=\s*(?:です|でございます|でした))")
_DESU_CUES = ("担当の", "担当", "もしもし", "名前は", "名前が", "名義は", "契約者の", "契約者は", "の方の",
              "センターの", "窓口の", "サポートの")
# Leading role words that are not part of a name (契約者山田 -> 山田).
_ROLE_PREFIXES = ("担当者", "契約者", "名義人", "担当", "本人", "窓口", "係")
# Runs before 様/さん that are not names.
_NOT_NAMES = frozenset(
    ["客", "皆", "奥", "旦那", "神", "王", "同", "仕", "模", "異", "多", "一", "左", "有", "貴", "各", "殿", "上", "外", "子", "兄", "姉", "父", "母", "爺", "婆", "息子", "娘", "皆々", "お客", "大家", "先生", "先輩", "後輩", "隣", "近所", "皆皆", "三", "二", "方", "何", "誰", "本人", "主人", "家族", "利用"]
)
_NOT_NAME_SUFFIXES = ("者", "員", "手", "屋", "長", "師", "士", "社", "店", "局", "課", "部", "会社", "様")


# --------------------------------------------------------------------------------- helpers
def _fold(text: str) -> str:
    """NFKC-fold each character where that keeps one character (offsets stay aligned)."""
    out = []
    for ch in text:
        folded = unicodedata.normalize("NFKC", ch)
        out.append(folded if len(folded) == 1 else ch)
    return "".join(out).replace("−", "-").replace("‐", "-").replace("－", "-")


def luhn_valid(digits: str) -> bool:
    """Whether a string of ASCII digits passes the Luhn checksum (card numbers)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _classify_digits(raw: str) -> str | None:
    digits = re.sub(r"[^0-9]", "", raw)
    if raw.startswith("+81"):
        return "phone"
    n = len(digits)
    if digits.startswith("0") and n in (10, 11):
        return "phone"
    if 13 <= n <= 19 and luhn_valid(digits):
        return "card"
    if n >= 8:
        return "number"
    return None


def _is_person_name(run: str, tagger: Any) -> bool:
    """Whether the tagger reads every token of ``run`` as a person name (UniDic 人名)."""
    if tagger is None:
        return False
    tagger_fn: Callable[[str], Iterable[Any]] = getattr(tagger, "tagger", tagger)
    try:
        words = list(tagger_fn(run))
    except Exception:  # a tagger wrapper we do not know: fall back to cues only
        return False
    return bool(words) and all(getattr(getattr(w, "feature", None), "pos3", "") == "人名" for w in words)


def _strip_role(run: str, start: int) -> tuple[str, int]:
    for prefix in _ROLE_PREFIXES:
        if run.startswith(prefix) and len(run) > len(prefix):
            return run[len(prefix):], start + len(prefix)
    return run, start


def _name_spans(folded: str, tagger: Any) -> Iterable[tuple[str, int, int]]:
    for m in _NAME_BEFORE_SELF.finditer(folded):
        run, start = _strip_role(m.group(), m.start())
        yield "name", start, m.end()
    for m in _NAME_BEFORE_HONORIFIC.finditer(folded):
        run, start = _strip_role(m.group(), m.start())
        # ご本人様, お子様, ご家族様: an honorific prefix marks a common noun, not a name.
        if run in _NOT_NAMES or run.endswith(_NOT_NAME_SUFFIXES) or folded[start - 1:start] in ("ご", "お"):
            continue
        yield "name", start, m.end()
    for m in _NAME_BEFORE_DESU.finditer(folded):
        run, start = _strip_role(m.group(), m.start())
        before = folded[max(0, start - 6):start]
        if any(before.endswith(cue) for cue in _DESU_CUES) or _is_person_name(run, tagger):
            yield "name", start, m.end()


def _spans(folded: str, tagger: Any) -> list[tuple[str, int, int]]:
    found: list[tuple[str, int, int]] = []  # (kind, start, end) in priority order
    found += [("email", m.start(), m.end()) for m in _EMAIL.finditer(folded)]
    found += [("email", a.start, a.end) for a in spoken_addresses(folded)]
    found += [("postal", m.start(), m.end()) for m in _POSTAL.finditer(folded)]
    found += [("address", m.start(), m.end()) for m in _ADDRESS.finditer(folded)]
    found += [("number", m.start(1), m.end(1)) for m in _ACCOUNT.finditer(folded)
              if _classify_digits(m.group(1)) in (None, "number")]
    for m in _DIGIT_RUN.finditer(folded):
        kind = _classify_digits(m.group())
        if kind:
            found.append((kind, m.start(), m.end()))
    for m in _SPOKEN_DIGITS.finditer(folded):
        raw = m.group().rstrip(" -、の")
        units = _UNIT_ITER.findall(raw)
        # A trailing particle に/ご read as a digit: drop it when it makes the number too long.
        if len(units) == 12 and units[-1] in ("に", "ご"):
            raw = raw[: raw.rfind(units[-1])]
            units = units[:-1]
        digits = "".join(_UNIT_TO_DIGIT[u] for u in units)
        kind = _classify_digits(digits) or "number"
        found.append((kind, m.start(), m.start() + len(raw)))
    found += list(_name_spans(folded, tagger))
    return found


def redact(text: str, *, tagger: Any = None) -> RedactionResult:
    """Replace PII in ``text`` with typed placeholders.

    Args:
        text: One utterance (raw or normalised; widths may be mixed, punctuation may be missing).
        tagger: Optional fugashi ``Tagger`` (or an object with a ``tagger`` attribute holding one);
            when given, 〜です self-introductions are redacted if the tagger reads the words as a
            person name (UniDic ``人名``), besides the cue words.

    Returns:
        The redacted text and the spans removed (offsets into ``text``). Earlier, more specific
        patterns win overlaps: e-mail, postal code, address, account number, digits, names.

    """
    if not text:
        return RedactionResult(text=text)
    folded = _fold(text)
    chosen: list[tuple[str, int, int]] = []
    for kind, start, end in _spans(folded, tagger):
        if end <= start or any(start < e and s < end for _, s, e in chosen):
            continue
        chosen.append((kind, start, end))
    chosen.sort(key=lambda span: span[1])
    out, pos = [], 0
    spans = []
    for kind, start, end in chosen:
        out.append(text[pos:start])
        out.append(PLACEHOLDERS[kind])
        spans.append(PiiSpan(kind=kind, start=start, end=end, text=text[start:end]))
        pos = end
    out.append(text[pos:])
    return RedactionResult(text="".join(out), spans=tuple(spans))


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
