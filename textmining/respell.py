"""Written form for Whisper's Japanese: spelled-out addresses and numbers, known misspellings.

Whisper writes what it hears. Customers spell e-mail addresses and read phone numbers digit by
digit, so the transcript holds 「花子ドット高橋アットマークイグザンプルドットジェーピー」 and
「ゼロさん、ゴー、ゼロ1、2、3」 where a support agent's notes, a CRM and koe's reference scripts
write ``hanako.takahashi@example.jp`` and ``0350123``. And the multilingual base model writes some
support words as same-sounding non-words (解約 as 開薬, 請求 as 星球). ``respell_transcript`` turns
a Whisper transcript into the written form, utterance by utterance, keeping timing and confidence:

1. **Spoken e-mail addresses** around an at-sign word (アットマーク, @, and Whisper's romanised
   ``atomaku``): parts separated by ドット/ハイフン/アンダーバー become latin. Each part is
   taken as latin as written, as spelled letter names (アイティーオー -> ``ito``), as a known
   domain word (ジーメール -> ``gmail``, ジェーピー -> ``jp``), as the English word UniDic
   glosses it with (イグザンプル -> ``example``), or romanised from its reading (Hepburn as
   on passports: 高橋 -> タカハシ -> ``takahashi``, 佐藤 -> ``sato``). A domain that Whisper put
   at the start of the speaker's next utterance (「ドットJPです」) is joined to the address.
2. **Spoken digit strings**: four or more digits read one by one (ゼロキューゼロ, イチニーサンヨン,
   mixed with written digits) become digits, groups kept apart by ``-`` where the speaker paused.
3. **Known misspellings** (``lexicon/respell.tsv``): non-words the base model writes for common
   support words, each replaced by the word. Only strings that are not words a caller would say
   are listed (改善 for 回線 is a real word and stays; see the file's header).

Imported transcripts are never respelled: they are already someone's written form.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from koe.errors import ConfigError
from koe.records import Transcript, Utterance
from textmining.normalise import to_katakana
from textmining.spoken import (
    ADDRESS_PART,
    DIGIT_WORDS,
    LETTER_NAMES,
    PARTICLE_DIGITS,
    SEPARATOR_TEXT,
    SEPARATORS,
    spoken_addresses,
    spoken_domain_tail,
)

__all__ = ["Respeller", "is_safe_misspelling", "load_misspellings", "load_respeller", "respell_transcript", "romanise"]

LEXICON_PATH = Path(__file__).with_name("lexicon") / "respell.tsv"

#: A function giving the katakana reading of a word (``None`` when unknown) and UniDic's English
#: gloss of a loanword (``""`` when none): see :func:`load_respeller`.
ReadingFn = Callable[[str], tuple[str | None, str]]

# ------------------------------------------------------------------------ romanisation
_KANA_ROMAJI = {
    "キャ": "kya", "キュ": "kyu", "キョ": "kyo", "シャ": "sha", "シュ": "shu", "ショ": "sho",
    "チャ": "cha", "チュ": "chu", "チョ": "cho", "ニャ": "nya", "ニュ": "nyu", "ニョ": "nyo",
    "ヒャ": "hya", "ヒュ": "hyu", "ヒョ": "hyo", "ミャ": "mya", "ミュ": "myu", "ミョ": "myo",
    "リャ": "rya", "リュ": "ryu", "リョ": "ryo", "ギャ": "gya", "ギュ": "gyu", "ギョ": "gyo",
    "ジャ": "ja", "ジュ": "ju", "ジョ": "jo", "ビャ": "bya", "ビュ": "byu", "ビョ": "byo",
    "ピャ": "pya", "ピュ": "pyu", "ピョ": "pyo", "シェ": "she", "ジェ": "je", "チェ": "che",
    "ティ": "ti", "ディ": "di", "ファ": "fa", "フィ": "fi", "フェ": "fe", "フォ": "fo", "ウィ": "wi",
    "ウェ": "we", "ウォ": "wo", "ヴァ": "va", "ヴィ": "vi", "ヴ": "vu",
    "ア": "a", "イ": "i", "ウ": "u", "エ": "e", "オ": "o", "カ": "ka", "キ": "ki", "ク": "ku",
    "ケ": "ke", "コ": "ko", "サ": "sa", "シ": "shi", "ス": "su", "セ": "se", "ソ": "so", "タ": "ta",
    "チ": "chi", "ツ": "tsu", "テ": "te", "ト": "to", "ナ": "na", "ニ": "ni", "ヌ": "nu", "ネ": "ne",
    "ノ": "no", "ハ": "ha", "ヒ": "hi", "フ": "fu", "ヘ": "he", "ホ": "ho", "マ": "ma", "ミ": "mi",
    "ム": "mu", "メ": "me", "モ": "mo", "ヤ": "ya", "ユ": "yu", "ヨ": "yo", "ラ": "ra", "リ": "ri",
    "ル": "ru", "レ": "re", "ロ": "ro", "ワ": "wa", "ヲ": "o", "ン": "n", "ガ": "ga", "ギ": "gi",
    "グ": "gu", "ゲ": "ge", "ゴ": "go", "ザ": "za", "ジ": "ji", "ズ": "zu", "ゼ": "ze", "ゾ": "zo",
    "ダ": "da", "ヂ": "ji", "ヅ": "zu", "デ": "de", "ド": "do", "バ": "ba", "ビ": "bi", "ブ": "bu",
    "ベ": "be", "ボ": "bo", "パ": "pa", "ピ": "pi", "プ": "pu", "ペ": "pe", "ポ": "po",
    "ァ": "a", "ィ": "i", "ゥ": "u", "ェ": "e", "ォ": "o",
}  # fmt: skip
_KANA_UNITS = sorted(_KANA_ROMAJI, key=len, reverse=True)


def romanise(kana: str) -> str:
    """Passport-style Hepburn romaji of a katakana (or hiragana) reading.

    Long vowels are written once, as Japanese names in e-mail addresses usually are (サトウ ->
    ``sato``, ユウキ -> ``yuki``, オオノ -> ``ono``); ッ doubles the next consonant (``tch`` before
    チ); ン is ``n``.

    Args:
        kana: A reading, e.g. ``タカハシ``.

    Returns:
        Lower-case latin letters; characters that are not kana are dropped.

    """
    text = to_katakana(kana)
    out: list[str] = []
    i, double = 0, False
    while i < len(text):
        if text[i] == "ッ":
            double, i = True, i + 1
            continue
        if text[i] == "ー":
            i += 1
            continue
        unit = next((u for u in _KANA_UNITS if text.startswith(u, i)), None)
        if unit is None:
            i += 1
            continue
        roman = _KANA_ROMAJI[unit]
        previous = out[-1] if out else ""
        # Passport Hepburn: おう/おお -> o, うう -> u (the long vowel is not written).
        if (unit in ("ウ", "オ") and previous.endswith("o")) or (unit == "ウ" and previous.endswith("u")):
            i += len(unit)
            continue
        if double:
            roman = ("t" if roman.startswith("ch") else roman[0]) + roman
            double = False
        out.append(roman)
        i += len(unit)
    return "".join(out)


# ------------------------------------------------------------------------ e-mail addresses
#: Domain and provider words as said in Japanese, longest first when matched.
_ADDRESS_WORDS = {
    "コム": "com", "ジェーピー": "jp", "ジェイピー": "jp", "シーオー": "co", "ネット": "net",
    "オルグ": "org", "オーアールジー": "org", "ジーメール": "gmail", "ジーメイル": "gmail",
    "ヤフー": "yahoo", "ドコモ": "docomo", "アイクラウド": "icloud", "ホットメール": "hotmail",
    "アウトルック": "outlook", "イグザンプル": "example", "エグザンプル": "example",
    "ソフトバンク": "softbank", "ニフティ": "nifty", "ビッグローブ": "biglobe", "プララ": "plala",
    "エーユー": "au", "オーシーエヌ": "ocn", "イーゼットウェブ": "ezweb", "ライブ": "live",
    "メール": "mail", "インフォ": "info", "サポート": "support",
}  # fmt: skip
def _letters(part: str) -> str | None:
    """``アイティーオー`` -> ``ito`` when the part is nothing but letter names, else None."""
    best: list[str | None] = [""] + [None] * len(part)
    for i in range(len(part)):
        if best[i] is None:
            continue
        for name, letter in LETTER_NAMES.items():
            if part.startswith(name, i) and best[i + len(name)] is None:
                best[i + len(name)] = f"{best[i]}{letter}"
    return best[-1]


def _latin_part(part: str, reading: ReadingFn) -> str:
    if part.isascii():
        return part.lower()
    if part in _ADDRESS_WORDS:
        return _ADDRESS_WORDS[part]
    if re.fullmatch(r"[ァ-ヶー]+", part):
        spelled = _letters(part)
        if spelled:
            return spelled
        kana, gloss = reading(part)
        if gloss.isascii() and gloss.isalpha():
            return gloss.lower()
        return romanise(kana or part)
    kana, _gloss = reading(part)
    return romanise(kana) if kana else part


def _latin(coded: str, reading: ReadingFn) -> str:
    out: list[str] = []
    for piece in re.split(f"({SEPARATORS})", coded):
        if piece in SEPARATOR_TEXT:
            out.append(SEPARATOR_TEXT[piece])
        elif re.search("[ぁ-ゖ]", piece):
            kana, _gloss = reading(piece.strip(" 、,"))
            out.append(romanise(kana) if kana else piece)
        else:
            out.extend(_latin_part(part, reading) for part in re.findall(ADDRESS_PART, piece))
    return "".join(out)


def _respell_address(text: str, reading: ReadingFn) -> tuple[str, bool]:
    """Respell spoken addresses; also say whether the text ends inside one."""
    pieces, last = [], 0
    for address in spoken_addresses(text):
        pieces += [text[last : address.start], f"{_latin(address.local, reading)}@{_latin(address.domain, reading)}"]
        last = address.end
    out = "".join(pieces) + text[last:]
    ends_inside = bool(pieces) and last == len(text)
    return out, ends_inside


def _respell_domain_tail(text: str, reading: ReadingFn) -> str:
    tail = spoken_domain_tail(text)
    return text if tail is None else _latin(tail.domain, reading) + text[tail.end :]


# ------------------------------------------------------------------------ spoken digits
# Digits as read one by one (textmining.spoken), hiragana only inside a run (see _DIGIT_RUN); the
# one-mora particles に/ご/く never, since a run of four is short enough to hold one by accident.
_DIGIT_WORDS = {word: digit for word, digit in DIGIT_WORDS.items() if word not in PARTICLE_DIGITS}
_DIGIT_ALT = "|".join(sorted(map(re.escape, _DIGIT_WORDS), key=len, reverse=True))
_KATAKANA_DIGIT_ALT = "|".join(w for w in sorted(_DIGIT_WORDS, key=len, reverse=True) if re.match("[ァ-ヶ]", w))
# Starts on a katakana digit word or a written digit (さん alone is an honorific, never a start);
# items are digit words or digits, with the pauses people leave between groups.
_DIGIT_RUN = re.compile(
    rf"(?<![ァ-ヶー])(?:{_KATAKANA_DIGIT_ALT}|[0-9])(?:[\s、,\-]*(?:{_DIGIT_ALT}|[0-9]))+(?![ァ-ヶー])"
)
_DIGIT_ITEM = re.compile(rf"{_DIGIT_ALT}|[0-9]|[\s、,\-]+")


def _respell_digits(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        items = _DIGIT_ITEM.findall(m[0])
        digits = [i for i in items if i.strip(" 、,-")]
        if len(digits) < 4 or all(i.isdigit() for i in digits):
            return m[0]  # short counts (三回) and runs already in digits stay as they are
        groups, current = [], ""
        for item in items:
            if item.strip(" 、,-"):
                current += _DIGIT_WORDS.get(item, item)
            elif current and (len(current) >= 2 or "-" in item):
                groups.append(current)
                current = ""
        groups.append(current)
        return "-".join(g for g in groups if g)

    return _DIGIT_RUN.sub(repl, text)


# ------------------------------------------------------------------------ lexicon
def load_misspellings(path: Path = LEXICON_PATH) -> dict[str, str]:
    """Read ``misspelling<TAB>word`` lines (``#`` comments) into a mapping.

    Args:
        path: The TSV file.

    Returns:
        Misspelling -> word.

    Raises:
        ConfigError: A line does not have two tab-separated fields (the message names it).

    """
    table: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) < 2 or not fields[0] or not fields[1]:
            raise ConfigError(
                f"{path}:{number}: expected 'misspelling<TAB>word', got {line!r}; fix or remove the line"
            )
        table[fields[0]] = fields[1]
    return table


def is_safe_misspelling(wrong: str, word: str, heard_in: str, tagger: Any) -> bool:
    """Whether ``wrong``, heard where ``word`` was said, may be replaced by ``word`` everywhere.

    What bench/vocabulary_probe.py uses to turn the model's misspellings into lexicon entries:
    at least two characters, no digits or latin, neither inside the word nor containing it; cut
    on word edges of the sentence it was heard in (not シュ変更 out of キッシュ変更); kana-only
    spellings only when they are the word's reading (katakana >= 3 characters, hiragana >= 4,
    since hiragana entries also match inside longer hiragana); otherwise neither the spelling nor
    the part that differs from the word may be a word of its own (改善 for 回線 and 契約機関 for
    契約期間 are real; 手数量 for 手数料 and 開薬 for 解約 are not).

    Args:
        wrong: The spelling the model wrote.
        word: The word that was said.
        heard_in: The whole transcribed sentence, normalised like ``wrong``.
        tagger: A fugashi tagger (:func:`textmining.tokens.load_tagger`).

    Returns:
        True when the replacement is safe.

    """
    if len(wrong) < 2 or wrong in word or word in wrong or re.search(r"[0-9A-Za-z]", wrong):
        return False
    if not _on_token_edges(wrong, heard_in, tagger):
        return False  # a cut through a word of the hypothesis (キッシュ変更 -> シュ変更)
    if re.fullmatch(r"[ぁ-ゖァ-ヺー]+", wrong):
        # Hiragana spellings are replaced inside running hiragana, so short ones are too risky
        # (しんさ is inside しんさい); katakana ones only match a whole katakana run.
        reading = "".join(node.feature.kana or "" for node in tagger(word))
        kana = to_katakana(wrong)
        return len(wrong) >= (3 if kana == wrong else 4) and kana == reading
    if _is_one_word(wrong, tagger):
        return False
    # The part that differs from the word must not be a word either: 契約機関 for 契約期間 is a
    # real phrase (機関), 手数量 for 手数料 is not.
    head = _shared_prefix_length(wrong, word)
    tail = _shared_prefix_length(wrong[head:][::-1], word[head:][::-1])
    differing = wrong[head : len(wrong) - tail]
    return len(differing) < 2 or not _is_one_word(differing, tagger)


def _is_one_word(text: str, tagger: Any) -> bool:
    nodes = list(tagger(text))
    return len(nodes) == 1 and bool(nodes[0].feature.lemma)


def _shared_prefix_length(a: str, b: str) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def _on_token_edges(part: str, text: str, tagger: Any) -> bool:
    at = text.find(part)
    if at < 0:
        return False
    edges, offset = {0}, 0
    for node in tagger(text):
        offset += len(node.surface)
        edges.add(offset)
    return at in edges and at + len(part) in edges


class Respeller:
    """Respells Whisper text into the written form; see the module docstring.

    Args:
        reading: The reading and English gloss of a word (see :func:`load_respeller`).
        misspellings: Misspelling -> word; matched longest first.

    """

    def __init__(self, reading: ReadingFn, misspellings: dict[str, str]) -> None:
        self._reading = reading
        self._misspellings = misspellings
        # A katakana misspelling only replaces a whole katakana run (ザイコ, not inside ザイコン).
        alternatives = [
            rf"(?<![ァ-ヺー]){re.escape(w)}(?![ァ-ヺー])" if re.fullmatch("[ァ-ヺー]+", w) else re.escape(w)
            for w in sorted(misspellings, key=len, reverse=True)
        ]
        self._pattern = re.compile("|".join(alternatives)) if alternatives else None

    def respell(self, text: str) -> tuple[str, bool]:
        """One utterance's text in written form, and whether it ends inside an e-mail address."""
        out = unicodedata.normalize("NFKC", text) if re.search(r"[Ａ-Ｚａ-ｚ０-９＠]", text) else text
        if self._pattern is not None:
            out = self._pattern.sub(lambda m: self._misspellings[m[0]], out)
        out, open_address = _respell_address(out, self._reading)
        return _respell_digits(out), open_address

    def respell_tail(self, text: str) -> str:
        """Text that may start with the rest of the previous utterance's address."""
        return _respell_domain_tail(text, self._reading)


def respell_transcript(transcript: Transcript, respeller: Respeller) -> Transcript:
    """The transcript in written form (see the module docstring); imports come back unchanged.

    Args:
        transcript: A transcript from :func:`transcribe.engine.transcribe_call`.
        respeller: From :func:`load_respeller`.

    Returns:
        A transcript with the same utterances, timing and confidence, and respelled text.

    """
    if not transcript.source.startswith("whisper:"):
        return transcript
    open_address: dict[str, bool] = {}
    utterances: list[Utterance] = []
    for utterance in transcript.utterances:
        text = utterance.text
        if open_address.get(utterance.speaker):
            text = respeller.respell_tail(text)
        text, open_address[utterance.speaker] = respeller.respell(text)
        utterances.append(utterance if text == utterance.text else replace(utterance, text=text))
    return replace(transcript, utterances=tuple(utterances))


def _unidic_reading(tagger: Any) -> ReadingFn:
    def reading(word: str) -> tuple[str | None, str]:
        kana, gloss = [], ""
        for node in tagger(word):
            feature = node.feature
            if not feature.kana:
                return None, ""
            kana.append(feature.kana)
            lemma = feature.lemma or ""
            gloss = lemma.split("-", 1)[1] if "-" in lemma else ""
        return "".join(kana), gloss if len(kana) == 1 else ""

    return reading


@lru_cache(maxsize=1)
def load_respeller() -> Respeller:
    """The respeller with fugashi's UniDic readings and the bundled misspelling lexicon."""
    from textmining.tokens import load_tagger

    return Respeller(_unidic_reading(load_tagger()), load_misspellings())
