from __future__ import annotations

from pathlib import Path

import pytest

from koe.errors import ConfigError
from textmining.categories import find_categories, load_category_rules
from textmining.rulefile import MinedUtterance

RULES = load_category_rules()


def cats(*utts: tuple[str, str]) -> set[str]:
    mined = [MinedUtterance(i, spk, i * 10.0, text) for i, (spk, text) in enumerate(utts)]  # type: ignore[arg-type]
    return {h.category for h in find_categories(mined, RULES)}


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("今月の請求額がいつもより高いんですけど", "請求・料金"),
        ("昨日の夜からインターネットがつながらないんです", "通信障害"),
        ("パスワードを忘れてログインできません", "ログイン・アカウント"),
        ("家族割のプランに切り替えたい", "プラン変更"),
        ("注文したルーターがまだ届かないんですけど", "機器・配送"),
        ("口座振替から払込票に変えられますか", "支払い方法"),
        ("解約したいんですけど", "解約"),
    ],
)
def test_customer_phrases(text: str, category: str) -> None:
    assert category in cats(("customer", text))


@pytest.mark.parametrize("text", ["解約はしません", "他社に乗り換えるつもりはないです"])
def test_negated_cancel_is_not_cancellation(text: str) -> None:
    assert "解約" not in cats(("customer", text))


def test_speaker_constraint() -> None:
    assert "解約" not in cats(("agent", "解約をご希望の場合は違約金がかかります"))


def test_position_constraint() -> None:
    early = [("agent", "ご本人様確認のためお名前をお願いします")]
    late = [("customer", "はい")] * 20 + early  # starts at 200 s, after first_s: 120
    assert "本人確認" in cats(*early)
    assert "本人確認" not in cats(*late)


def test_invalid_category_names_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("categories:\n  - {name: x, patterns: ['[']}", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c\.yaml: category x: invalid regex"):
        load_category_rules(path)
