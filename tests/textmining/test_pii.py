from __future__ import annotations

import pytest

from textmining.pii import luhn_valid, redact
from textmining.tokens import load_tagger

REDACTED = [
    # (input, expected output)
    ("電話番号は090-1234-5678です", "電話番号は［電話番号］です"),
    ("０９０－１２３４－５６７８になります", "［電話番号］になります"),
    ("番号は09012345678", "番号は［電話番号］"),
    ("〇九〇の一二三四の五六七八です", "［電話番号］です"),
    ("ゼロキューゼロのイチニーサンヨンのゴーロクナナハチ", "［電話番号］"),
    ("まるきゅうまるのいちにさんよんのごろくななはちです", "［電話番号］です"),
    ("+81 90 1234 5678です", "［電話番号］です"),
    ("03-1234-5678にお願いします", "［電話番号］にお願いします"),
    ("メールはtaro.yamada@example.co.jpです", "メールは［メールアドレス］です"),
    ("yamada アットマーク example ドット com です", "［メールアドレス］ です"),
    # Whisper cut the address before its domain's dots (they come in the next utterance).
    ("メールはhanako.takahashi@example", "メールは［メールアドレス］"),
    ("メールは花子ドッド 高橋アットマークイグザンプル", "メールは［メールアドレス］"),
    ("カード番号は4111 1111 1111 1111です", "カード番号は［カード番号］です"),
    ("4111-1111-1111-1111で", "［カード番号］で"),
    ("1234 5678 9012 3456です", "［番号］です"),  # fails Luhn: an identifier, not a card
    ("お客様番号は12345678です", "お客様番号は［番号］です"),
    ("〒105-0011です", "［郵便番号］です"),
    ("郵便番号は105-0011です", "郵便番号は［郵便番号］です"),
    ("住所は東京都港区芝公園4-2-8です", "住所は［住所］です"),
    ("大阪府大阪市北区梅田1丁目2番3号になります", "［住所］になります"),
    ("山田と申します", "［氏名］と申します"),
    ("さくらネットの佐藤と申します", "さくらネットの［氏名］と申します"),
    ("山田太郎様ですね", "［氏名］様ですね"),
    ("鈴木さんにお願いしました", "［氏名］さんにお願いしました"),
    ("担当の藤井です", "担当の［氏名］です"),
    ("みらいでんきお客様窓口の鈴木が承ります", "みらいでんきお客様窓口の［氏名］が承ります"),
]
UNTOUCHED = [
    "お客様の料金プランを確認します",
    "ご本人様確認のため、ご契約者様のお名前をお願いします",
    "三十分も待たされたんですけど",
    "皆様にご不便をおかけしております",
    "解約です",
    "料金は3,300円です",
    "1丁目のお店に行きました",
    "お疲れ様です",
    "アットマークの後ろがわからないんです",
    "アットホームな雰囲気のお店ですね",
    "お問い合わせは@koe_supportまで",
]


@pytest.mark.parametrize(("text", "expected"), REDACTED)
def test_redacts_pii(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize("text", UNTOUCHED)
def test_leaves_non_pii(text: str) -> None:
    result = redact(text, tagger=load_tagger())
    assert result.text == text
    assert result.count == 0


def test_self_intro_with_tagger_only() -> None:
    assert redact("山田です、よろしくお願いします", tagger=load_tagger()).text == "［氏名］です、よろしくお願いします"
    assert redact("解約です", tagger=load_tagger()).text == "解約です"


def test_spans_point_into_input() -> None:
    text = "番号は０９０－１２３４－５６７８で山田と申します"
    result = redact(text)
    assert [s.kind for s in result.spans] == ["phone", "name"]
    assert [text[s.start:s.end] for s in result.spans] == ["０９０－１２３４－５６７８", "山田"]


@pytest.mark.parametrize(("digits", "valid"), [("4111111111111111", True), ("4111111111111112", False)])
def test_luhn(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid
