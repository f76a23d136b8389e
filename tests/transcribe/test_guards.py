from __future__ import annotations

import pytest

from transcribe.guards import (
    GuardOptions,
    RawSegment,
    collapse_repetitions,
    guard_segment,
    is_silence_hallucination,
)

OPTIONS = GuardOptions()


def segment(text: str, *, logprob: float = -0.3, no_speech: float = 0.05) -> RawSegment:
    return RawSegment(0, 10.0, 12.0, text, logprob, no_speech, 1.2)


@pytest.mark.parametrize(
    ("text", "is_last", "expected"),
    [
        ("ご視聴ありがとうございました", False, True),
        ("ご視聴ありがとうございました。", False, True),
        ("最後までご視聴いただきありがとうございました", False, True),
        ("チャンネル登録お願いします", False, True),
        ("チャンネル登録よろしくお願いします!", False, True),
        ("字幕：山田", False, True),
        ("お疲れ様でした", True, True),
        ("お疲れ様でした", False, False),  # mid-call it is ordinary speech
        ("ありがとうございました", True, False),  # the usual closing of a support call
        ("本日はご視聴ありがとうございました、ではなくお電話ありがとうございました", False, False),
        ("請求書の字幕ではなく明細を", False, False),
    ],
)
def test_silence_hallucination_phrases(text, is_last, expected):
    assert is_silence_hallucination(text, is_last=is_last) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("はいはいはいはいはいはいはいはい", "はい"),
        ("はいはいはい", "はいはいはい"),  # three is ordinary speech
        ("そうですねそうですねそうですねそうですね。わかりました", "そうですね。わかりました"),
        ("番号は0120000000です", "番号は0120000000です"),  # digits are never collapsed
    ],
)
def test_collapse_repetitions(text, expected):
    assert collapse_repetitions(text, 3) == expected


def test_hallucination_dropped_only_without_speech_evidence():
    phrase = segment("ご視聴ありがとうございました")
    assert guard_segment(phrase, speech_coverage=0.2, is_last=False, options=OPTIONS) is None
    doubtful = segment("ご視聴ありがとうございました", no_speech=0.5)
    assert guard_segment(doubtful, speech_coverage=1.0, is_last=False, options=OPTIONS) is None
    # Clear speech under it: kept (a caller may really say it).
    assert guard_segment(phrase, speech_coverage=1.0, is_last=False, options=OPTIONS) == phrase


def test_low_confidence_silence_and_loops_are_dropped():
    assert guard_segment(segment("えー", logprob=-1.4, no_speech=0.8), speech_coverage=1.0, is_last=False, options=OPTIONS) is None
    assert guard_segment(segment("(音楽)♪"), speech_coverage=1.0, is_last=False, options=OPTIONS) is None
    loop = "料金プランの変更について" * 12
    kept = guard_segment(segment(loop), speech_coverage=1.0, is_last=False, options=OPTIONS)
    assert kept is not None and kept.text == "料金プランの変更について"


def test_ordinary_segment_is_untouched():
    ordinary = segment("はい、料金プランの変更についてですね。")
    assert guard_segment(ordinary, speech_coverage=0.9, is_last=True, options=OPTIONS) == ordinary
