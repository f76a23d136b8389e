"""Spelled-out text: one table of digit/letter names, and linear-time spoken-address matching."""

from __future__ import annotations

import random
import threading
import time

import pytest

from koe.records import Transcript, Utterance
from textmining.pii import redact, redact_call
from textmining.respell import load_respeller, respell_transcript
from textmining.spoken import DIGIT_READINGS, DIGIT_WORDS, LETTER_NAMES, LETTER_READINGS, spoken_addresses
from textmining.tokens import load_tagger

# Long enough that a quadratic pattern takes minutes and a cubic one hours (the utterance limit is
# 20,000 characters); a linear one takes well under a second. The deadline is generous on purpose:
# it separates "linear" from "blows up" (the quadratic address pattern took 35 s on one run of
# katakana here), not fast from slow.
LENGTH = 20_000
DEADLINE_S = 20.0
TOKENS = ["アット", "アットマーク", "ドット", "ハイフン", "ア", "ー", "山", "田", "a", "1", "ゼロ", "に", " ", "、", "@", ".",
          # the number, date, address and name detectors' own pieces (issue 16)
          "九", "丁目", "番", "号", "-", "の", "昭和", "年", "月", "日", "様", "さん", "と申します", "です", "エー",
          "at ", "dot ", "口座", "番号", "生まれ", "区", "ヤマダ"]


TAGGER = load_tagger()


def _finishes(work, deadline_s: float = DEADLINE_S) -> bool:
    done = threading.Event()

    def run() -> None:
        work()
        done.set()

    threading.Thread(target=run, daemon=True).start()
    return done.wait(deadline_s)


def _adversarial() -> list[str]:
    rng = random.Random(20261201)
    mixed = ["".join(rng.choice(TOKENS) for _ in range(LENGTH))[:LENGTH] for _ in range(3)]
    runs = [
        token * (LENGTH // len(token))
        for token in ("ア", "ゼロ", "山田", "アット", "ドット", "a", "に", "一", "1-", "1の", "九丁目", "二十五番",
                      "ゼロ、", "エー1", "山田様", "ヤマダ ", "やまだ", "昭和六十年", "1 ", "at dot ")
    ]
    return [*mixed, *runs, "ア" * (LENGTH - 7) + "アットマークb", "a" * (LENGTH - 1) + "@",
            "電話番号は" + "1" * (LENGTH - 5), "住所は" + "区" * (LENGTH - 10) + "1丁目2番3号", "山" * (LENGTH - 5) + "と申します"]


@pytest.mark.parametrize("text", _adversarial(), ids=lambda t: f"{t[:6]}…{len(t)}")
def test_redaction_and_respelling_stay_linear_on_long_adversarial_input(text: str) -> None:
    transcript = Transcript((Utterance("customer", 0.0, 1.0, text),), 1.0, True, source="whisper:base")
    respeller = load_respeller()
    started = time.perf_counter()
    assert _finishes(lambda: redact(text)), f"redact did not finish within {DEADLINE_S} s"
    assert _finishes(lambda: redact_call([text, text], ["customer", "customer"], tagger=TAGGER)), "redact_call did not finish"
    assert _finishes(lambda: respell_transcript(transcript, respeller)), "respell did not finish"
    assert time.perf_counter() - started < 2 * DEADLINE_S


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("メールはyamada アットマーク example ドット jpです", True),
        ("花子ドット高橋アットマークイグザンプルドットジェーピー", True),
        ("アドレスは taro@example", True),
        ("アットホームな雰囲気でした", False),  # a bare アット needs a dotted domain
        ("ドットの模様が好きです", False),
    ],
)
def test_spoken_addresses(text: str, found: bool) -> None:
    assert bool(spoken_addresses(text)) is found


def test_one_table_of_names() -> None:
    assert all(DIGIT_WORDS[kana] == str(digit) for digit, kana in enumerate(DIGIT_READINGS))
    assert all(LETTER_NAMES[kana] == letter for letter, kana in LETTER_READINGS.items())
