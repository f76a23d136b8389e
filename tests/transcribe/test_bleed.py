from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from transcribe.audio import SAMPLE_RATE
from transcribe.bleed import BleedOptions, drop_bleed_duplicates, gate_bleed, text_similarity

OPTIONS = BleedOptions()


def burst(seconds: float, start: float, length: float, amplitude: float, hz: float, seed: int) -> np.ndarray:
    """Noise-modulated tone in [start, start+length), speech-like enough for energy tests."""
    out = np.zeros(int(seconds * SAMPLE_RATE), np.float32)
    lo, hi = int(start * SAMPLE_RATE), int((start + length) * SAMPLE_RATE)
    t = np.arange(hi - lo) / SAMPLE_RATE
    rng = np.random.default_rng(seed)
    out[lo:hi] = amplitude * np.sin(2 * np.pi * hz * t) * (0.6 + 0.4 * rng.random(hi - lo))
    return out


def rms(x: np.ndarray, start: float, end: float) -> float:
    piece = x[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
    return float(np.sqrt(np.mean(piece**2)))


def test_gate_removes_crosstalk_but_keeps_overtalk():
    agent = burst(10, 1.0, 3.0, 0.3, 200, 1) + burst(10, 6.0, 2.0, 0.3, 210, 2)
    customer = burst(10, 4.5, 3.0, 0.3, 330, 3)  # overlaps the agent's 6-7.5 s
    bleed = 10 ** (-26 / 20)
    left, right = agent + bleed * customer, customer + bleed * agent
    gated_left, gated_right = gate_bleed(left, right, OPTIONS)
    # Customer-only stretch (4.6-5.8 s): the agent channel's copy is silenced ...
    assert rms(gated_left, 4.7, 5.8) == 0.0
    # ... and so is the customer channel's copy of the agent's first turn.
    assert rms(gated_right, 1.2, 3.8) == 0.0
    # Both really talk at 6.1-7.4 s: nothing is gated there.
    assert rms(gated_left, 6.1, 7.4) == pytest.approx(rms(left, 6.1, 7.4))
    assert rms(gated_right, 6.1, 7.4) == pytest.approx(rms(right, 6.1, 7.4))


def test_gate_is_the_same_when_the_conversation_sits_in_a_long_quiet_window():
    # A 10-minute window of a long call: the agent talks for 40 s (7%), the customer for 6 s (1%).
    # The agent's bleed on the customer channel must still be gated, exactly as in a short call.
    agent = burst(50, 1.0, 40.0, 0.3, 200, 1)
    customer = burst(50, 42.0, 6.0, 0.3, 330, 3)
    bleed = 10 ** (-26 / 20)
    left, right = agent + bleed * customer, customer + bleed * agent
    quiet = np.zeros(550 * SAMPLE_RATE, np.float32)
    short = gate_bleed(left, right, OPTIONS)
    long = gate_bleed(np.concatenate([quiet, left]), np.concatenate([quiet, right]), OPTIONS)
    assert rms(short[1], 2.0, 40.0) == 0.0
    assert rms(long[1][quiet.size :], 2.0, 40.0) == 0.0
    np.testing.assert_array_equal(long[0][quiet.size :], short[0])
    np.testing.assert_array_equal(long[1][quiet.size :], short[1])


@dataclass(frozen=True)
class Seg:
    start_s: float
    end_s: float
    text: str


def test_quieter_duplicate_is_dropped():
    left = burst(6, 1.0, 3.0, 0.3, 200, 1)
    right = 0.05 * left  # the customer channel hears the agent at -26 dB
    agent = [Seg(1.0, 4.0, "お調べいたしますので少々お待ちください")]
    echo = [Seg(1.1, 3.9, "少々お待ちください"), Seg(4.5, 5.0, "はい")]
    kept_agent, kept_customer = drop_bleed_duplicates(agent, echo, (left, right), OPTIONS)
    assert kept_agent == agent
    assert kept_customer == [echo[1]]


def test_same_words_at_the_same_level_are_both_kept():
    both = burst(4, 1.0, 1.0, 0.3, 200, 1)
    kept = drop_bleed_duplicates([Seg(1.0, 2.0, "はい")], [Seg(1.0, 2.0, "はい")], (both, both.copy()), OPTIONS)
    assert kept == ([Seg(1.0, 2.0, "はい")], [Seg(1.0, 2.0, "はい")])


@pytest.mark.parametrize(
    ("a", "b", "at_least", "below"),
    [
        ("請求金額が間違っているようなんです", "間違っています", 0.8, 1.01),
        ("はい、よろしくお願いします。", "ハイ よろしくお願いします", 0.9, 1.01),
        ("解約したいです", "ありがとうございます", 0.0, 0.3),
    ],
)
def test_text_similarity(a, b, at_least, below):
    assert at_least <= text_similarity(a, b) < below
