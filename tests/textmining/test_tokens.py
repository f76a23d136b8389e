from __future__ import annotations

import pytest

from textmining.tokens import Token, content_tokens, count_morae, load_tagger, reading_of_number, tokenize


def test_tagger_is_loaded_once() -> None:
    assert load_tagger() is load_tagger()


def test_tokenize_gives_lemma_pos_and_reading() -> None:
    tokens = tokenize("ネットが繋がらない")
    assert tokens[0] == Token(surface="ネット", lemma="ネット", pos="名詞", pos2="普通名詞", reading="ネット")
    verb = tokens[2]
    assert (verb.surface, verb.lemma, verb.pos) == ("繋がら", "繋がる", "動詞")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("クレジットカードの請求書が届かないんですけど", ("クレジットカード", "請求書", "届く")),
        ("えーと、ネットが全然つながらないんです", ("ネット", "繋がる")),
        ("3000円の利用料金と手数料について", ("利用料金", "手数料")),
        ("ｶｲﾔｸしたいんですが", ("解約",)),
        ("かいやくしたいんですが", ("解約",)),  # ASR wrote kana
        ("せいきゅうしょが来ないんです", ("請求書",)),
        ("お客様のお電話番号を確認いたします", ()),  # agent script: all stop words
        ("引っ越しの手続きをしたいと思いまして", ("引っ越し", "手続き")),
        ("パスワードを何度も再設定しました", ("パスワード", "再設定")),
        ("待ち時間が長すぎます", ("待ち時間", "長い")),
        ("アプリがすぐ落ちてしまう", ("アプリ", "落ちる")),
        ("田中さんに説明してもらいました", ("説明",)),  # 〜さん marks a person (PII), not a topic
        ("請求額に関して質問があります", ("請求額", "質問")),
    ],
)
def test_content_tokens(text: str, expected: tuple[str, ...]) -> None:
    assert content_tokens(text) == expected


@pytest.mark.parametrize("text", ["はい", "ええ、そうです", "ありがとうございます", "少々お待ちください", "2回です"])
def test_content_tokens_of_small_talk_are_empty(text: str) -> None:
    assert content_tokens(text) == ()


def test_english_gloss_is_removed_from_lemmas() -> None:
    assert all("-" not in t for t in content_tokens("インターネットのルーターとモデムのケーブル"))


@pytest.mark.parametrize(
    ("text", "morae"),
    [
        ("きょう", 2),  # small ょ joins き
        ("がっこう", 4),  # っ counts
        ("コンピューター", 6),  # ー counts
        ("しんぶん", 4),  # ん counts
        ("東京", 4),  # トウキョウ
        ("請求書", 5),  # セイキュウショ
        ("ABC", 6),  # エービーシー
        ("3000円", 6),  # サンゼンエン
        ("0120-111", 13),  # ゼロイチニゼロ イチイチイチ: digit by digit
        ("はい、そうです。", 6),  # punctuation is silent
        ("", 0),
    ],
)
def test_count_morae(text: str, morae: int) -> None:
    assert count_morae(text) == morae


@pytest.mark.parametrize(
    ("digits", "reading"),
    [("3000", "サンゼン"), ("600", "ロッピャク"), ("15", "ジュウゴ"), ("20000", "ニマン"), ("090", "ゼロキュウゼロ")],
)
def test_reading_of_number(digits: str, reading: str) -> None:
    assert reading_of_number(digits) == reading


def test_the_process_tagger_is_safe_to_share_between_threads() -> None:
    # The default task runner analyses calls in a thread pool with one shared tagger; a single
    # MeCab Tagger called from several threads returns other texts' morphemes.
    import threading

    from textmining.tokens import _tokenize

    texts = [
        "お電話ありがとうございます。さくらネットの佐藤でございます。",
        "先週も電話したんですけど、まだインターネットがつながらないんです。",
        "大変申し訳ございません。回線の状況をお調べいたします。",
        "もう解約しようかと思っています。",
    ]
    tagger = load_tagger()
    expected = {text: _tokenize(text, tagger) for text in texts}
    wrong: list[str] = []

    def work(offset: int) -> None:
        for k in range(1500):
            text = texts[(offset + k) % len(texts)]
            if _tokenize(text, tagger) != expected[text]:
                wrong.append(text)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
