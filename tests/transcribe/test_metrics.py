from __future__ import annotations

import pytest

from koe.records import Interval, Transcript, Utterance
from transcribe.metrics import (
    MetricsOptions,
    compute_metrics,
    estimate_morae,
    is_backchannel,
    is_hold_request,
)

# A 70 s call with known timings: 1 s lead-in, an agent cut-in of exactly 1 s at 9-10 s, two
# backchannels that overlap the agent, a 4 s silence, a requested hold of 9.4 s, an unrequested
# 21 s hold, a 0.5 s overlap that is too short to count, and a 5 s tail.
CALL = Transcript(
    utterances=(
        Utterance("agent", 1.0, 5.0, "お電話ありがとうございます。"),
        Utterance("customer", 6.0, 10.0, "料金について聞きたいんですが。"),
        Utterance("agent", 9.0, 12.0, "はい、確認いたします。"),
        Utterance("customer", 11.5, 12.0, "はい"),
        Utterance("agent", 16.0, 18.0, "少々お待ちください。"),
        Utterance("customer", 18.2, 18.6, "はい。"),
        Utterance("agent", 28.0, 31.0, "お待たせいたしました。"),
        Utterance("customer", 31.5, 36.0, "ありがとうございます。それでお願いします。"),
        Utterance("agent", 38.0, 40.0, "承知しました。"),
        Utterance("agent", 61.0, 63.0, "以上でよろしいでしょうか。"),
        Utterance("customer", 62.5, 65.0, "はい、大丈夫です。"),
    ),
    duration_s=70.0,
    speakers_separated=True,
)


@pytest.fixture(scope="module")
def metrics():
    return compute_metrics(CALL, count_morae=lambda text: 10)


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("duration_s", 70.0),
        ("talk_s_agent", 16.0),
        ("talk_s_customer", 11.9),
        ("talk_s_unknown", 0.0),
        ("talk_ratio_agent", 0.5735),
        ("silence_count", 3),
        ("silence_s", 34.4),
        ("longest_silence_s", 21.0),
        ("silence_ratio", 0.4914),
        ("overtalk_count", 1),
        ("overtalk_s", 1.0),
        ("hold_count", 2),
        ("hold_s", 30.4),
        ("turn_count", 9),
        ("speaking_rate_agent", 3.75),
        ("speaking_rate_customer", 4.202),
    ],
)
def test_metric_values(metrics, field, expected):
    assert getattr(metrics, field) == pytest.approx(expected, abs=1e-9)


def test_intervals(metrics):
    assert metrics.silences == (Interval(12.0, 16.0), Interval(18.6, 28.0), Interval(40.0, 61.0))
    assert metrics.overtalks == (Interval(9.0, 10.0, "agent"),)
    assert metrics.holds == (Interval(18.6, 28.0, "agent"), Interval(40.0, 61.0, None))


def test_overtalk_starter_is_who_cut_in():
    call = Transcript(
        utterances=(
            Utterance("agent", 0.0, 6.0, "ご案内いたしますと、こちらのプランは"),
            Utterance("customer", 3.0, 7.0, "いや、そういうことじゃなくて"),
        ),
        duration_s=8.0,
        speakers_separated=True,
    )
    assert compute_metrics(call).overtalks == (Interval(3.0, 6.0, "customer"),)


def test_thresholds_are_options():
    stricter = compute_metrics(CALL, options=MetricsOptions(silence_min_s=5.0, overtalk_min_s=1.5, hold_any_min_s=30.0))
    assert (stricter.silence_count, stricter.overtalk_count, stricter.hold_count) == (2, 0, 1)


def test_mono_call_has_no_speaker_metrics():
    mono = Transcript(
        utterances=tuple(Utterance("unknown", u.start_s, u.end_s, u.text) for u in CALL.utterances),
        duration_s=70.0,
        speakers_separated=False,
    )
    result = compute_metrics(mono)
    # union: [1,5] [6,12] [16,18] [18.2,18.6] [28,31] [31.5,36] [38,40] [61,65]
    assert result.talk_s_unknown == pytest.approx(25.9)
    assert (result.talk_ratio_agent, result.speaking_rate_agent, result.speaking_rate_customer) == (None, None, None)
    assert (result.overtalk_count, result.turn_count) == (0, 0)
    # No agent utterances to ask for a hold: only the 20 s rule applies.
    assert result.holds == (Interval(40.0, 61.0, None),)
    assert result.silence_count == 3


def test_empty_call():
    result = compute_metrics(Transcript(utterances=(), duration_s=12.0, speakers_separated=True))
    assert (result.silence_count, result.silence_ratio, result.talk_ratio_agent, result.turn_count) == (0, 0.0, None, 0)


@pytest.mark.parametrize(
    ("text", "duration_s", "expected"),
    [
        ("はい", 0.4, True),
        ("はい、はい。", 0.8, True),
        ("ええ", 0.5, True),
        ("うんうん", 0.6, True),
        ("そうですね。", 1.0, True),
        ("なるほど", 0.9, True),
        ("はい", 1.5, False),  # too long to be a backchannel
        ("いいえ", 0.5, False),
        ("ちょっと待ってください", 1.0, False),
    ],
)
def test_backchannel(text, duration_s, expected):
    assert is_backchannel(Utterance("customer", 0.0, duration_s, text)) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("少々お待ちください。", True),
        ("少々お待ちくださいませ", True),
        ("しょうしょうお待ち下さい", True),
        ("少々お待ちいただけますでしょうか", True),
        ("確認しますので、少しお待ちいただいてもよろしいでしょうか", True),
        ("少々お時間いただけますか", True),
        ("保留にさせていただきます", True),
        ("少々お待ちくださ", True),  # ASR cut the word short
        ("お待たせいたしました", False),  # ends a hold
        ("またのお電話をお待ちしております", False),
        ("はい、わかりました", False),
    ],
)
def test_hold_request(text, expected):
    assert is_hold_request(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("はい", 2), ("きょう", 2), ("ちょっと", 3), ("コーヒー", 4), ("東京", 4), ("ありがとうございます。", 10)],
)
def test_estimate_morae(text, expected):
    assert estimate_morae(text) == expected
