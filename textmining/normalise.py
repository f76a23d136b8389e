"""Text normalisation for mining: width, long vowels, repeated characters, fillers.

Everything here is a pure ``str -> str`` function. The transcript keeps the text as said; these
functions produce the form that rules, tokenisation and sentiment run on. ``normalise_text`` is
idempotent (``normalise_text(normalise_text(x)) == normalise_text(x)``), so callers may apply it
more than once.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["FILLERS", "normalise_text", "restore_kanji", "strip_fillers", "to_katakana"]

#: Fillers dropped for mining (but kept in the transcript), as they appear after
#: :func:`normalise_text`. Ambiguous words (あの, その, まあ, なんか) are listed here but only
#: removed when they behave as fillers; see :func:`strip_fillers`.
FILLERS: tuple[str, ...] = (
    "ええっと",
    "えーっと",
    "えっと",
    "えーと",
    "ええと",
    "えと",
    "えー",
    "あのー",
    "あの",
    "そのー",
    "その",
    "うーん",
    "うーむ",
    "ううん",
    "んー",
    "んーと",
    "あー",
    "まあ",
    "まぁ",
    "なんか",
)

# Long-vowel marks that ASR and people type interchangeably; runs collapse to one ー.
_LONG_MARKS = re.compile(r"[ー―‐－〜~]{2,}")
# A single dash or wave after kana is a long vowel mark typed with the wrong key.
_DASH_AFTER_KANA = re.compile(r"(?<=[ぁ-ゖァ-ヺ])[―‐－〜]")
# Dash look-alikes between digits become "-" so phone and card numbers read uniformly.
_DIGIT_DASH = re.compile(r"(?<=\d)[‐‑‒–—―−ー－](?=\d)")
_LONG_RUN = re.compile(r"ー{2,}")
# Three or more of the same kana collapse to two (ええええ -> ええ, ははは -> はは). Digits and
# latin letters are never folded: phone and card numbers (0120-111-111) must survive for PII.
_KANA_RUN = re.compile(r"([ぁ-ゖァ-ヺ])\1{2,}")
# Small tsu runs (あっっっ) collapse to one: っっ is never a word.
_SOKUON_RUN = re.compile(r"([っッ])\1+")
# Runs of the same punctuation collapse to one (！！！ -> ！ after NFKC: !!! -> !).
_PUNCT_RUN = re.compile(r"([!?！？。、,.・…])\1+")
_SPACE = re.compile(r"\s+")

# Filler patterns, applied to normalised text. Unambiguous fillers go everywhere they stand as
# a word; あの/その/まあ/なんか only when lengthened or followed by a pause (comma, space,
# ellipsis) or the end of the text, so 「あのサービス」 and 「その件」 keep their demonstrative and
# 「まあまあです」 ("so-so") keeps its meaning.
_PAUSE = r"(?:[、,…\s]+|$)"
_UNAMBIGUOUS = ("ええっと", "えーっと", "えっと", "えーと", "ええと", "うーん", "うーむ", "んーと", "んー")
_FILLER_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile("(?:" + "|".join(_UNAMBIGUOUS) + r")[、,…\s]*"),
    re.compile(r"(?:^|(?<=[、,。!?\s]))(?:えと|えー|あー|ううん)" + _PAUSE),
    re.compile(r"(?:あの|その)ー+[、,…\s]*"),
    re.compile(r"(?:^|(?<=[、,。!?\s]))(?:あの|その|なんか)" + _PAUSE),
    re.compile(r"(?<!まあ)(?<!まぁ)(?:まあ|まぁ)(?!まあ|まぁ)ー*[、,…\s]*"),
)

def to_katakana(text: str) -> str:
    """Hiragana turned into katakana (せいきゅう -> セイキュウ); everything else unchanged."""
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)


# Frequent support-call words that ASR (or a tired typist) writes in kana, where the kana
# form makes MeCab split nonsense (かいやく -> 甲斐+役). Only words that are unambiguous in a
# support call are listed, so a substring hit is the word itself.
_KANA_TO_KANJI: dict[str, str] = {
    "かいやく": "解約",
    "せいきゅうしょ": "請求書",
    "せいきゅう": "請求",
    "りょうきん": "料金",
    "けいやく": "契約",
    "へんきん": "返金",
    "ひきおとし": "引き落とし",
    "てすうりょう": "手数料",
    "しはらい": "支払い",
    "ふりこみ": "振込",
    "ひっこし": "引っ越し",
    "てつづき": "手続き",
    "たんとうしゃ": "担当者",
    "せきにんしゃ": "責任者",
    "じょうし": "上司",
    "こしょう": "故障",
    "しゅうり": "修理",
    "こうかん": "交換",
    "へんぴん": "返品",
    "はいたつ": "配達",
    "ちゅうもん": "注文",
    "ぷらん": "プラン",
    "ぱすわーど": "パスワード",
    "ろぐいん": "ログイン",
    "あぷり": "アプリ",
    "めーる": "メール",
    "くれじっとかーど": "クレジットカード",
    "なっとく": "納得",
    "めいわく": "迷惑",
    "せつめい": "説明",
    "れんらく": "連絡",
    "でんわ": "電話",
    "しょうがい": "障害",
    "つうしん": "通信",
}
# The same words in katakana (half-width katakana from some ASR/CRM exports becomes full-width
# katakana under NFKC: ｶｲﾔｸ -> カイヤク).
_KANA_TO_KANJI.update({to_katakana(kana): word for kana, word in list(_KANA_TO_KANJI.items())})
_KANA_WORDS = re.compile("|".join(sorted(map(re.escape, _KANA_TO_KANJI), key=len, reverse=True)))


def normalise_text(text: str) -> str:
    """Normalise transcript text for mining.

    Applies NFKC (full-width ASCII to half-width, half-width katakana to full-width,
    ideographic space to a space), folds runs of long-vowel marks (ーーー, 〜〜) to one ー,
    folds three or more of the same kana to two (ええええ -> ええ), runs of the same punctuation
    to one (！！！ -> !), unifies dash look-alikes between digits to ``-`` (0120−111 ->
    0120-111), and collapses whitespace. Digits and latin letters are never folded, so phone
    and card numbers survive for PII redaction.

    Args:
        text: Text as transcribed.

    Returns:
        The normalised text; idempotent.

    """
    out = unicodedata.normalize("NFKC", text)
    out = _DIGIT_DASH.sub("-", out)
    out = _LONG_MARKS.sub("ー", out)
    out = _DASH_AFTER_KANA.sub("ー", out)
    out = _LONG_RUN.sub("ー", out)
    out = _KANA_RUN.sub(r"\1\1", out)
    out = _SOKUON_RUN.sub(r"\1", out)
    out = _PUNCT_RUN.sub(r"\1", out)
    return _SPACE.sub(" ", out).strip()


def strip_fillers(text: str) -> str:
    """Drop fillers (えーと, えっと, あのー, うーん, まあ, ...) from normalised text for mining.

    あの, その and なんか are demonstratives or adverbs as often as fillers, so they are only
    dropped when lengthened (あのー) or followed by a pause (comma, space, ellipsis) or the end
    of the text: 「あの、請求書が」 loses あの, 「あのサービス」 keeps it. まあ is dropped except in
    まあまあ ("so-so"). The text is normalised first.

    Args:
        text: Text as transcribed or already normalised.

    Returns:
        The text without fillers, whitespace collapsed.

    """
    out = normalise_text(text)
    for pattern in _FILLER_PATTERNS:
        out = pattern.sub("", out)
    out = re.sub(r"^[、,…\s]+", "", out)
    return _SPACE.sub(" ", out).strip()


def restore_kanji(text: str) -> str:
    """Rewrite frequent support-call words written in kana (かいやく, せいきゅうしょ) in kanji.

    ASR sometimes emits kana where the dictionary expects kanji, and MeCab then splits the
    kana into unrelated words (かいやく -> 甲斐 + 役). Only unambiguous words of four or more
    kana are rewritten. Used before tokenisation; the stored transcript is left unchanged.

    Args:
        text: Normalised text.

    Returns:
        The text with known kana spellings replaced by their usual kanji/katakana form.

    """
    return _KANA_WORDS.sub(lambda m: _KANA_TO_KANJI[m.group(0)], text)
