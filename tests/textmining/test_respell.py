"""Written form of Whisper text: spoken e-mail addresses, digit strings, known misspellings."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from koe.errors import ConfigError
from koe.records import Transcript, Utterance
from textmining.pii import redact
from textmining.respell import (
    Respeller,
    is_safe_misspelling,
    load_misspellings,
    load_respeller,
    respell_transcript,
    romanise,
)
from textmining.tokens import load_tagger


@pytest.fixture(scope="module")
def respeller() -> Respeller:
    return load_respeller()


# Whisper's renderings of spelled addresses: katakana, kanji names, latin, letter names, mixed.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("メールは花子ドッド 高橋アットマークイグザンプルドットジェーピーです",
         "メールはhanako.takahashi@example.jpです"),
        ("ITO.Misaki Atomaku イグザンプル.JPです。", "ito.misaki@example.jpです。"),
        ("ユキ、ドット、モリタ、アットマーク、ジーメール、ドット、コムです", "yuki.morita@gmail.comです"),
        ("アイティーオー、ドット、ミサキ、アットマーク、イグザンプル、ドット、ジェーピーです",
         "ito.misaki@example.jpです"),
        ("佐藤ハイフン健アットマークヤフードットシーオードットジェーピーでお願いします",
         "sato-ken@yahoo.co.jpでお願いします"),
        ("ケンタアンダーバー1985アットマークドコモドットネです", "kenta_1985@docomo.neです"),
        ("アドレスはtaro@example.comです", "アドレスはtaro@example.comです"),
        ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍです", "taro@example.comです"),
        ("エスジェー、アットマーク、アイクラウド、ドット、コム", "sj@icloud.com"),
        # An ASR slip inside a part after a dot is romanised from its reading, not dropped.
        ("ユキードットを盛りたアットマーク gmail ドットコムです", "yuki.omorita@gmail.comです"),
    ],
)  # fmt: skip
def test_spoken_addresses_become_addresses(respeller: Respeller, text: str, expected: str) -> None:
    assert respeller.respell(text)[0] == expected


@pytest.mark.parametrize(
    "text",
    [
        "アットホームな雰囲気のお店ですね",
        "あっという間に終わりました",
        "メールアドレスを変更したいんですが",
        "ドットコムのサイトから申し込みました",
        "アットマークの後ろがわからないんです",
    ],
)
def test_text_without_an_address_is_left_alone(respeller: Respeller, text: str) -> None:
    assert respeller.respell(text)[0] == text


@pytest.mark.parametrize("text", ["ア" * 300, "ドット" * 100, "高橋ドット" * 60 + "アット", "ゼロイチ" * 100 + "ア"])
def test_long_runs_without_an_address_are_left_alone(respeller: Respeller, text: str) -> None:
    # Guards the patterns' shape: with ドット matchable both as a separator and as katakana, a
    # 30-character katakana run took 15 s (300 characters would not finish).
    assert respeller.respell(text)[0] == text
    assert "［メールアドレス］" not in redact(text).text


def test_a_domain_cut_into_the_next_utterance_is_joined(respeller: Respeller) -> None:
    transcript = _whisper(
        ("customer", "メールは花子ドッド 高橋アットマークイグザンプル"),
        ("agent", "はい"),
        ("customer", "ドッドJPです"),
        ("customer", "ドットの後は何ですか"),
    )
    texts = [u.text for u in respell_transcript(transcript, respeller).utterances]
    assert texts == ["メールはhanako.takahashi@example", "はい", ".jpです", "ドットの後は何ですか"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ゼロキューゼロ、イチニーサンヨン、ゴーロクナナハチです", "090-1234-5678です"),
        ("ゼロハチゼロ キューハチナナロク ゴーヨンサンニー", "080-9876-5432"),
        ("ゼロさん、ゴー、ゼロ1、2、3でございます。", "03-501-23でございます。"),
        ("注文番号はゴーハチニーイチサンキューゼロナナです", "注文番号は58213907です"),
        ("ゼロイチニーゼロのイチイチイチ", "0120のイチイチイチ"),
    ],
)
def test_spoken_digit_strings_become_digits(respeller: Respeller, text: str, expected: str) -> None:
    assert respeller.respell(text)[0] == expected


@pytest.mark.parametrize(
    "text",
    [
        "田中さん、ゴーさんです",  # さん is an honorific, never the start of a number
        "サンキュー、助かりました",  # two digit words, not a number
        "昨日の夜も3回切れました",
        "090-1234-5678です",
        "ナナさんとロクさん",
        "ハチミツとロクロ",
    ],
)
def test_words_and_written_numbers_are_left_alone(respeller: Respeller, text: str) -> None:
    assert respeller.respell(text)[0] == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("今月の星球についてお電話しました", "今月の請求についてお電話しました"),
        ("開薬金が3300円かかります", "解約金が3300円かかります"),
        ("佐藤が受けたまわりました", "佐藤が承りました"),
        ("ご名訳をおかけしました", "ご迷惑をおかけしました"),
        # Real words stay, even where the base model wrote them for something else.
        ("回線の改善工事を予定しております", "回線の改善工事を予定しております"),
        ("パスワードの件でお電話しました", "パスワードの件でお電話しました"),
        ("土曜日は相手がいません", "土曜日は相手がいません"),
    ],
)
def test_known_misspellings_and_real_words(respeller: Respeller, text: str, expected: str) -> None:
    assert respeller.respell(text)[0] == expected


def test_respelled_addresses_and_numbers_are_redacted(respeller: Respeller) -> None:
    text, _ = respeller.respell("メールは花子ドット高橋アットマークイグザンプルドットジェーピー、電話はゼロキューゼロイチニーサンヨンゴーロクナナハチです")
    assert redact(text).text == "メールは［メールアドレス］、電話は［電話番号］です"


def test_timing_and_confidence_are_kept_and_imports_untouched(respeller: Respeller) -> None:
    transcript = _whisper(("agent", "開薬のお手続きですね"), ("customer", "はい"))
    out = respell_transcript(transcript, respeller)
    assert out.utterances[0] == replace(transcript.utterances[0], text="解約のお手続きですね")
    assert out.utterances[1] is transcript.utterances[1]
    assert respell_transcript(out, respeller) == out  # idempotent
    imported = replace(transcript, source="import")
    assert respell_transcript(imported, respeller) is imported


@pytest.mark.parametrize(
    ("kana", "expected"),
    [("タカハシ", "takahashi"), ("サトウ", "sato"), ("ユウキ", "yuki"), ("オオノ", "ono"),
     ("シンイチ", "shinichi"), ("キョウコ", "kyoko"), ("マッチャ", "matcha"), ("はなこ", "hanako")],
)  # fmt: skip
def test_romanise_is_passport_hepburn(kana: str, expected: str) -> None:
    assert romanise(kana) == expected


def test_bundled_lexicon_maps_non_words_to_words() -> None:
    table = load_misspellings()
    assert table["開薬"] == "解約"
    assert "改善" not in table and "県" not in table
    assert all(len(wrong) >= 2 and wrong != right for wrong, right in table.items())


# What the vocabulary probe may turn into a lexicon entry: (heard, said, sentence as heard).
@pytest.mark.parametrize(
    ("wrong", "word", "heard_in", "safe"),
    [
        ("開薬", "解約", "開薬したいんです", True),
        ("手数量", "手数料", "手数量がよくわからないんです", True),
        ("しはらい", "支払い", "しはらいのことで電話しました", True),
        ("ヘンピン", "返品", "ヘンピンしたいんです", True),
        ("改善", "回線", "改善について確認いたします", False),  # a word of its own
        ("契約機関", "契約期間", "契約機関について確認いたします", False),  # 機関 is a word
        ("う仕込み", "申し込み", "もう仕込みのことで電話したんですが", False),  # cut through もう
        ("しんさ", "審査", "しんさのことで電話しました", False),  # inside しんさい
        ("ひわり", "日割り", "ひわりのことです", False),
        ("20請求", "二重請求", "20請求のことです", False),
        ("ご請求", "請求", "ご請求のことです", False),
    ],
)
def test_probe_keeps_only_misspellings_safe_to_replace_everywhere(
    wrong: str, word: str, heard_in: str, safe: bool
) -> None:
    assert is_safe_misspelling(wrong, word, heard_in, load_tagger()) is safe


def test_katakana_misspellings_only_replace_whole_katakana_runs() -> None:
    respeller = Respeller(lambda word: (None, ""), {"ザイコ": "在庫"})
    assert respeller.respell("ザイコがありません")[0] == "在庫がありません"
    assert respeller.respell("ザイコンという名前です")[0] == "ザイコンという名前です"


def test_malformed_lexicon_line_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "respell.tsv"
    path.write_text("# comment\n開薬\t解約\n星球 請求\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"respell\.tsv:3: expected"):
        load_misspellings(path)


def _whisper(*turns: tuple[str, str]) -> Transcript:
    utterances = tuple(
        Utterance(speaker=speaker, start_s=2.0 * i, end_s=2.0 * i + 1.5, text=text, confidence=-0.3)  # type: ignore[arg-type]
        for i, (speaker, text) in enumerate(turns)
    )
    return Transcript(utterances=utterances, duration_s=2.0 * len(turns), speakers_separated=True, source="whisper:test")
