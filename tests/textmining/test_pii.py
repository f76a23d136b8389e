from __future__ import annotations

import pytest

from textmining.pii import luhn_valid, redact, redact_call
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


# ------------------------------------------------------------------ whole calls (redact_call)
@pytest.fixture(scope="module")
def tagger():  # type: ignore[no-untyped-def]
    return load_tagger()


# (PII type, [(speaker, utterance), ...], the PII string that must not survive)
CALL_PII = [
    ("name", [("customer", "もしもし、タカハシと言いますけど")], "タカハシ"),
    ("name", [("customer", "私、佐々木と申します")], "佐々木"),
    ("name", [("agent", "お名前をお願いできますか"), ("customer", "はい、ヤマダタロウです")], "ヤマダタロウ"),
    ("name", [("agent", "お名前を頂戴できますか"), ("customer", "えっと、中村健一です")], "中村健一"),
    ("name", [("agent", "フルネームでお願いします"), ("customer", "やまだはなこです")], "やまだはなこ"),
    ("name", [("customer", "名前は小林です")], "小林"),
    ("name", [("customer", "名字は渡辺で、下の名前は美咲です")], "美咲"),
    ("name", [("customer", "契約者は父の山本一郎になってます")], "山本一郎"),
    ("name", [("agent", "ワタナベ様でいらっしゃいますね")], "ワタナベ"),
    ("name", [("agent", "山口様、お待たせいたしました")], "山口"),
    ("name", [("customer", "はい、斎藤です")], "斎藤"),
    ("phone", [("customer", "携帯は080の5555の1212です")], "5555"),
    ("phone", [("agent", "ご連絡先のお電話番号をお願いします"), ("customer", "ゼロキューゼロ、イチニーサンヨン、ゴーロクナナハチ")], "ゴーロクナナハチ"),
    ("phone", [("customer", "電話は〇八〇の四四四四の三三三三です")], "〇八〇の四四四四の三三三三"),
    ("card", [("customer", "カード番号は4980 1234 5678 9012です")], "4980 1234 5678 9012"),
    ("card", [("customer", "セキュリティコードは123です")], "123"),
    ("account", [("customer", "みずほ銀行の新宿支店、普通の1234567です")], "1234567"),
    ("account", [("agent", "口座番号をお願いいたします"), ("customer", "当座で七六五四三二一です")], "七六五四三二一"),
    ("number", [("customer", "会員番号はAB123456です")], "AB123456"),
    ("number", [("agent", "証券番号をお願いします"), ("customer", "はい、K12-345678です")], "K12-345678"),
    ("number", [("customer", "お客様番号はエーケー、5566です")], "5566"),
    ("postal", [("customer", "郵便番号は一五六の〇〇五四です")], "一五六の〇〇五四"),
    ("postal", [("agent", "郵便番号をお願いします"), ("customer", "いちごーろく、ぜろぜろごーよんです")], "いちごーろく、ぜろぜろごーよん"),
    ("birthdate", [("agent", "生年月日をお願いします"), ("customer", "昭和六十年五月三日です")], "昭和六十年五月三日"),
    ("birthdate", [("customer", "1985年5月3日生まれです")], "1985年5月3日"),
    ("birthdate", [("customer", "誕生日は平成2年の12月24日です")], "平成2年の12月24日"),
    ("address", [("customer", "住所は世田谷区桜丘九丁目二十五番二十号です")], "九丁目二十五番二十号"),
    ("address", [("customer", "横浜市港北区日吉3-12-5 サンハイツ305号室です")], "サンハイツ305号室"),
    ("address", [("agent", "ご住所をお願いします"), ("customer", "杉並区阿佐谷北1丁目2番地の3です")], "阿佐谷北1丁目2番地の3"),
    ("email", [("customer", "メールはyamada at gmail dot comです")], "yamada"),
]


@pytest.mark.parametrize(("kind", "turns", "secret"), CALL_PII, ids=[f"{k}-{i}" for i, (k, *_) in enumerate(CALL_PII)])
def test_redact_call_removes_each_kind(kind: str, turns: list[tuple[str, str]], secret: str, tagger) -> None:  # type: ignore[no-untyped-def]
    results = redact_call([t for _, t in turns], [s for s, _ in turns], tagger=tagger)
    assert all(secret not in r.text for r in results), (kind, [r.text for r in results])


# (negative kind, [(speaker, utterance), ...]): nothing in these is personal.
HARD_NEGATIVES = [
    ("agent_name", [("agent", "お電話ありがとうございます。みどりモバイル、担当の佐藤です")]),
    ("agent_name", [("agent", "本日は鈴木が承りました。ありがとうございました")]),
    ("agent_name", [("agent", "サポートセンターの高橋でございます")]),
    ("agent_name", [("agent", "わたくし木村と申します。ご用件をお伺いします")]),
    ("price", [("agent", "月額は3,300円になります")]),
    ("price", [("agent", "お電話番号の確認ありがとうございます。料金は5500円です")]),
    ("product_number", [("customer", "型番はKJ-55X80Lです")]),
    ("product_number", [("agent", "製品の型番を教えてください"), ("customer", "えっと、MX-2045です")]),
    ("date", [("agent", "お届けは令和6年5月3日の予定です")]),
    ("date", [("customer", "先月の12月24日に申し込みました")]),
    ("quantity", [("customer", "ルーターを2台と、ケーブルを3本お願いします")]),
    ("place", [("customer", "新宿三丁目店で買いました")]),
    ("place", [("customer", "1丁目のお店に行きました")]),
    ("company", [("customer", "山田電機で買ったんです")]),
    ("company", [("agent", "株式会社さくらネットからのご案内です")]),
]


@pytest.mark.parametrize(("kind", "turns"), HARD_NEGATIVES, ids=[f"{k}-{i}" for i, (k, _) in enumerate(HARD_NEGATIVES)])
def test_redact_call_keeps_hard_negatives(kind: str, turns: list[tuple[str, str]], tagger) -> None:  # type: ignore[no-untyped-def]
    results = redact_call([t for _, t in turns], [s for s, _ in turns], tagger=tagger)
    assert [r.text for r in results] == [t for _, t in turns], kind


# A detail split over a speaker's two turns (the other side may say はい between them).
SPLIT = [
    ([("customer", "電話は090-1234"), ("customer", "5678です")], ["1234", "5678"]),
    ([("customer", "カード番号は4111 1111"), ("agent", "はい"), ("customer", "1111 1111です")], ["4111 1111", "1111 1111"]),
    ([("customer", "メールはhanako.takahashi アットマーク example"), ("customer", "ドット co ドット jpです")], ["hanako", "co ドット jp"]),
    ([("customer", "住所は東京都世田谷区"), ("customer", "桜丘3丁目12番5号です")], ["世田谷区", "3丁目12番5号"]),
    ([("customer", "名前は山田"), ("customer", "太郎です")], ["山田", "太郎"]),
]


@pytest.mark.parametrize(("turns", "parts"), SPLIT)
def test_a_detail_split_over_two_turns_is_redacted_in_both(turns: list[tuple[str, str]], parts: list[str], tagger) -> None:  # type: ignore[no-untyped-def]
    texts = [r.text for r in redact_call([t for _, t in turns], [s for s, _ in turns], tagger=tagger)]
    assert all(part not in " ".join(texts) for part in parts), texts


class BrokenTagger:
    def __call__(self, text: str) -> list[object]:
        raise RuntimeError("dictionary unreadable")


def test_redaction_fails_closed(caplog: pytest.LogCaptureFixture) -> None:
    results = redact_call(["山田です、電話は090-1234-5678です", ""], ["customer", "agent"], tagger=BrokenTagger())
    assert results[0].text == "［非表示］" and results[0].withheld
    assert "RuntimeError" in results[0].error and "山田" not in results[0].error
    assert results[1].text == "" and not results[1].withheld
    assert "withheld" in caplog.text and "090" not in caplog.text
    assert redact("山田です", tagger=BrokenTagger()).withheld
