"""``koe sentiment train``: the classifier is stored as a model version and analysis switches to it."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from flows.pipeline_steps import load_analysis_resources
from koe.settings import get_settings
from textmining.sentiment import LexiconScorer
from textmining.sentiment_model import TrainedSentimentScorer

POSITIVE = ["本当に助かりました", "ありがとうございます、安心しました", "丁寧に説明してもらえてよかったです", "すぐ直りました、感謝します"]
NEGATIVE = ["何度電話してもつながらない", "もう最悪です", "全然直らないんですけど", "納得できません"]
NEUTRAL = ["請求書の件でお電話しました", "住所の変更をしたいです", "来月のプランについて", "契約内容を確認したい"]


def _labels(path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for label, texts in (("positive", POSITIVE), ("negative", NEGATIVE), ("neutral", NEUTRAL)):
            for i in range(3):
                for text in texts:
                    writer.writerow([f"{text}{'。' * i}", label])


def test_trained_sentiment_model_is_stored_and_used(koe_env: str, tmp_path: Path) -> None:
    assert isinstance(load_analysis_resources(get_settings()).scorer, LexiconScorer)
    labels = tmp_path / "labels.csv"
    _labels(labels)
    env = {**os.environ}
    result = subprocess.run(
        [sys.executable, "-m", "cli", "sentiment", "train", str(labels), "--json"],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["version"].startswith("sentiment-") and report["n_texts"] == 36
    assert 0.0 <= report["cv_accuracy"] <= 1.0
    scorer = load_analysis_resources(get_settings()).scorer
    assert isinstance(scorer, TrainedSentimentScorer)
    positive, negative = scorer.score(["本当に助かりました", "もう最悪です"])
    assert positive > negative


def test_too_few_labels_is_a_clear_error(koe_env: str, tmp_path: Path) -> None:
    labels = tmp_path / "few.csv"
    labels.write_text("text,label\n助かりました,positive\n最悪,negative\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "cli", "sentiment", "train", str(labels)],
        env={**os.environ}, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 1
    assert "error:" in result.stderr and "Traceback" not in result.stderr
