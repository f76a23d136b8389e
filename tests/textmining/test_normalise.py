from __future__ import annotations

import pytest

from textmining.normalise import FILLERS, normalise_text, restore_kanji, strip_fillers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ｶｲﾔｸしたいんですけど", "カイヤクしたいんですけど"),  # half-width katakana from an ASR export
        ("ＡＢＣプランの料金", "ABCプランの料金"),  # full-width latin
        ("０１２０−１１１−２２２に電話しました", "0120-111-222に電話しました"),  # digits kept, dashes unified
        ("すごーーーく困ってるんですよ", "すごーく困ってるんですよ"),
        ("ええええ、そうなんですよ", "ええ、そうなんですよ"),
        ("ふざけるな！！！", "ふざけるな!"),
        ("本当ですか？？", "本当ですか?"),
        ("あっっっ、すみません", "あっ、すみません"),
        ("請求書が　届いて   いません", "請求書が 届いて いません"),
        ("  はい  ", "はい"),
        ("カード番号は1111です", "カード番号は1111です"),  # digits are never folded (PII needs them)
        ("まあまあですね", "まあまあですね"),
    ],
)
def test_normalise_text(raw: str, expected: str) -> None:
    assert normalise_text(raw) == expected


@pytest.mark.parametrize("raw", ["ｶｲﾔｸ！！！ええええ", "すごーーーい〜〜", "あのー、えーと"])
def test_normalise_text_is_idempotent(raw: str) -> None:
    once = normalise_text(raw)
    assert normalise_text(once) == once


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("えーと、請求書が届かないんですけど", "請求書が届かないんですけど"),
        ("えっと、あのー、パスワードを忘れてしまって", "パスワードを忘れてしまって"),
        ("あの、解約したいんですが", "解約したいんですが"),
        ("うーん、なんか、ちょっと分かりにくいです", "ちょっと分かりにくいです"),
        ("まあ、仕方ないですね", "仕方ないですね"),
        # demonstratives and so-so keep their meaning
        ("あのサービスはもう使っていません", "あのサービスはもう使っていません"),
        ("その件でお電話しました", "その件でお電話しました"),
        ("まあまあ満足しています", "まあまあ満足しています"),
        ("ええ、その通りです", "ええ、その通りです"),  # ええ is an answer, not a filler
    ],
)
def test_strip_fillers(raw: str, expected: str) -> None:
    assert strip_fillers(raw) == expected


def test_fillers_are_normalised_forms() -> None:
    assert all(normalise_text(f) == f for f in FILLERS)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("かいやくしたいです", "解約したいです"),
        ("せいきゅうしょが届かない", "請求書が届かない"),
        ("カイヤクの手続き", "解約の手続き"),
        ("りょうきんぷらん", "料金プラン"),
        ("かいしゃ", "かいしゃ"),  # not a listed word: untouched
    ],
)
def test_restore_kanji(raw: str, expected: str) -> None:
    assert restore_kanji(raw) == expected
