"""How callers spell things out: letter and digit names, and spoken e-mail addresses.

One definition for everything that reads spelled-out text: the tokeniser's readings, the respeller
(which writes the address or number back) and the PII redactor (which removes it).

Spoken addresses are found on a *coded* copy of the text: every at-sign and separator word
(アットマーク, ドット, ハイフン, ...) becomes one control character before any pattern runs. With
ドット both a separator and katakana, an uncoded pattern can split a long katakana run in
exponentially many ways before it fails; on the coded text each part pattern is a plain run of one
script and matching stays linear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "ADDRESS_PART",
    "DIGIT_READINGS",
    "DIGIT_WORDS",
    "KANJI_DIGITS",
    "LETTER_NAMES",
    "LETTER_READINGS",
    "PARTICLE_DIGITS",
    "SEPARATORS",
    "SEPARATOR_TEXT",
    "SpokenAddress",
    "spoken_addresses",
    "spoken_domain_tail",
]

_LETTER_TEXT = (
    "エー ビー シー ディー イー エフ ジー エイチ アイ ジェー ケー エル エム エヌ オー ピー キュー "
    "アール エス ティー ユー ブイ ダブリュー エックス ワイ ゼット"
)
#: How latin letters and digits are read out (a -> エー, 0 -> ゼロ): the tokeniser's readings.
LETTER_READINGS = dict(zip("abcdefghijklmnopqrstuvwxyz", _LETTER_TEXT.split(), strict=True))
DIGIT_READINGS = ("ゼロ", "イチ", "ニ", "サン", "ヨン", "ゴ", "ロク", "ナナ", "ハチ", "キュウ")

#: Letter names as spelled out: the readings above, and the other ways people say them.
LETTER_NAMES: dict[str, str] = {kana: letter for letter, kana in LETTER_READINGS.items()} | {
    "エイ": "a", "デー": "d", "エッチ": "h", "ジェイ": "j", "ケイ": "k", "テー": "t", "ヴィ": "v",
    "ダブル": "w", "ゼッド": "z",
}  # fmt: skip

#: Every kana way of reading one digit aloud, in katakana and hiragana (lengthened forms, マル and
#: レイ for zero, シチ for seven, ク for nine).
DIGIT_WORDS: dict[str, str] = {
    alt: digit
    for digit, alts in {
        "0": "ゼロ ぜろ マル まる レイ れい",
        "1": "イチ いち",
        "2": "ニ に ニー にー ニイ にい",
        "3": "サン さん",
        "4": "ヨン よん",
        "5": "ゴ ご ゴー ごー ゴオ ごお",
        "6": "ロク ろく",
        "7": "ナナ なな シチ しち",
        "8": "ハチ はち",
        "9": "キュウ きゅう キュー きゅー ク く",
    }.items()
    for alt in alts.split()
}
#: Digits written as kanji numerals, one by one (〇九〇).
KANJI_DIGITS: dict[str, str] = dict(zip("〇一二三四五六七八九", "0123456789", strict=True)) | {"零": "0"}
#: One-mora hiragana digit words that are also particles or words (に, ご, く): a digit only inside
#: a long run of digits, never on their own.
PARTICLE_DIGITS: frozenset[str] = frozenset({"に", "ご", "く"})

# ------------------------------------------------------------------------ spoken addresses
_SYMBOL = re.compile(
    r"アットマーク|アット\s?マーク|あっとまーく|at\s?mark|atomaku|attomaku|アット|@"
    r"|ドット|ドッド|どっと|ハイフン|ハイフォン|アンダーバー|アンダースコア|[.・\-_]"
    # ASR in romaji: 「yamada at gmail dot com」.
    r"|(?<![A-Za-z])(?:at(?=\s)|dot(?=\s?[A-Za-z]))(?![A-Za-z])",
    re.I,
)
_AT, _WEAK_AT, _DOT, _HYPHEN, _UNDERSCORE = "\x00", "\x04", "\x01", "\x02", "\x03"
#: Coded separator -> what it is in a written address.
SEPARATOR_TEXT = {_DOT: ".", _HYPHEN: "-", _UNDERSCORE: "_"}
#: Regex class of the coded separators.
SEPARATORS = "[\x01\x02\x03]"
#: One part of an address: a run of latin, katakana or kanji.
ADDRESS_PART = r"(?:[A-Za-z0-9]+|[ァ-ヶー]+|[一-龥々]+)"
_PART = ADDRESS_PART
# After a separator a part may hold ASR slips in any script (ユキドットを盛りた for yuki.morita);
# the first part may not, or 「メールは」 would join the address. Parts without a separator between
# them need a pause (space, 、), for the same reason as the coding above.
_LOOSE_PART = r"[ぁ-ゖァ-ヶー一-龥々A-Za-z0-9]{1,10}"
_GAP = r"[\s、,]*"
# The local part starts where a run of its script starts: from anywhere inside a run, the run's
# own start gives the same match, and trying every position in a long run made matching quadratic.
_FIRST_PART = r"(?:(?<![A-Za-z0-9])[A-Za-z0-9]+|(?<![ァ-ヶー])[ァ-ヶー]+|(?<![一-龥々])[一-龥々]+)"
_ADDRESS = re.compile(
    rf"(?P<local>{_FIRST_PART}(?:{_GAP}{SEPARATORS}{_GAP}{_LOOSE_PART}|[\s、,]+{_PART}){{0,16}}){_GAP}"
    rf"(?P<at>[{_AT}{_WEAK_AT}]){_GAP}(?P<domain>{_PART}(?:{_GAP}{SEPARATORS}{_GAP}{_PART}){{0,4}})"
)
# A domain continued at the start of the speaker's next utterance: 「ドットJPです」.
_DOMAIN_TAIL = re.compile(rf"^{_GAP}(?P<domain>(?:{SEPARATORS}{_GAP}{_PART}{_GAP}){{1,4}})")


@dataclass(frozen=True, slots=True)
class SpokenAddress:
    """An e-mail address said aloud, found in a text.

    Attributes:
        start: Start offset in the text (characters).
        end: End offset (exclusive) in the text.
        local: The part before the at-sign, coded (separators as :data:`SEPARATOR_TEXT` keys).
        domain: The part after it, coded the same way ("" for a domain tail's own match).

    """

    start: int
    end: int
    local: str
    domain: str


def _symbol_code(word: str) -> str:
    if word in ("ハイフン", "ハイフォン", "-"):
        return _HYPHEN
    if word in ("アンダーバー", "アンダースコア", "_"):
        return _UNDERSCORE
    if word.lower() in ("ドット", "ドッド", "どっと", ".", "・", "dot"):
        return _DOT
    return _WEAK_AT if word.lower() in ("アット", "at") else _AT


def _coded(text: str) -> tuple[str, list[int]]:
    """The text with symbol words coded, and where each coded character starts in the text.

    ``starts`` has one more entry, the text's length: coded span ``[a, b)`` is
    ``text[starts[a]:starts[b]]``.
    """
    out: list[str] = []
    starts: list[int] = []
    position = 0
    for m in _SYMBOL.finditer(text):
        out.extend(text[position : m.start()])
        starts.extend(range(position, m.start()))
        out.append(_symbol_code(m[0]))
        starts.append(m.start())
        position = m.end()
    out.extend(text[position:])
    starts.extend(range(position, len(text) + 1))
    return "".join(out), starts


def spoken_addresses(text: str) -> list[SpokenAddress]:
    """Every spoken (or written) e-mail address in ``text``, in order.

    A bare アット counts only with a dotted domain after it (「アットホーム」 is not an address);
    アットマーク and @ count with any domain part, also one cut short by the end of the utterance.
    """
    coded, starts = _coded(text)
    found = []
    for m in _ADDRESS.finditer(coded):
        if m["at"] == _WEAK_AT and not re.search(SEPARATORS, m["domain"]):
            continue
        found.append(SpokenAddress(starts[m.start()], starts[m.end()], m["local"], m["domain"]))
    return found


def spoken_domain_tail(text: str) -> SpokenAddress | None:
    """The rest of a domain that opens ``text`` (「ドットJPです」), continuing the last utterance's address."""
    coded, starts = _coded(text)
    m = _DOMAIN_TAIL.match(coded)
    return None if m is None else SpokenAddress(starts[m.start()], starts[m.end()], "", m["domain"])
