from __future__ import annotations

from pathlib import Path

import pytest

from koe.errors import InputError, TrainingError
from koe.records import Utterance
from textmining.sentiment import LexiconScorer, SentimentScorer, score_label
from textmining.sentiment_lexicon import load_lexicon
from textmining.sentiment_model import TrainedSentimentScorer, train_sentiment, train_sentiment_from_file
from textmining.sentiment_summary import summarise_sentiment


@pytest.fixture(scope="module")
def scorer() -> LexiconScorer:
    return LexiconScorer()


def _label(scorer: LexiconScorer, text: str) -> str:
    return score_label(scorer.score([text])[0])


@pytest.mark.parametrize(
    ("text", "label"),
    [
        # topic words carry no feeling by themselves
        ("先月の料金について確認したいんですけど", "neutral"),
        ("請求書の送付先を変更したいです", "neutral"),
        ("ご契約者様のお名前をお伺いしてもよろしいでしょうか", "neutral"),
        ("引っ越しをするので住所を変更したいです", "neutral"),
        ("はい", "neutral"),
        # negation
        ("問題ありません", "positive"),
        ("はい、特に問題はないです", "positive"),
        ("全然つながらないんですよ", "negative"),
        ("ネットが使えないんです", "negative"),
        ("悪くないです", "positive"),
        ("対応が良くなかったです", "negative"),
        ("請求書がまだ届いていません", "negative"),
        ("大丈夫じゃないです", "negative"),
        ("納得できません", "negative"),
        ("解約はしません", "neutral"),
        ("他社に乗り換えるつもりはないです", "neutral"),  # negation reaches through つもり
        ("別に怒ってるわけじゃないんですけど", "neutral"),  # ... and through わけ
        ("結局解決してないじゃないですか", "negative"),  # じゃないですか asserts, it does not negate
        ("ネットが使えへんのやけど", "negative"),  # Kansai negation
        ("一時間近く待たされたんですよ", "negative"),
        # polite positive and negative
        ("助かりました、ありがとうございます", "positive"),
        ("丁寧に説明していただいて安心しました", "positive"),
        ("困っています", "negative"),
        ("お忙しいところすみません、ちょっとお伺いしたいんですが", "neutral"),
        # polite indirect complaints
        ("少し分かりにくいかなと思いまして", "negative"),
        ("正直ちょっと困ってまして", "negative"),
        ("何度も電話してるのにつながらないんです", "negative"),
        ("早く直してほしいんですけど", "negative"),
        # strong complaints
        ("ふざけないでください", "negative"),
        ("最悪です、もう二度と使いません", "negative"),
        ("責任者を出してください", "negative"),
        # agent formulas that look like complaints
        ("ご不便をおかけして申し訳ございません", "neutral"),
        ("大変お待たせいたしました", "neutral"),
        ("ご迷惑をおかけしまして誠に申し訳ございませんでした", "neutral"),
        # contrast: the clause after が/けど counts more
        ("説明は丁寧でしたけど、結局解決してないですよね", "negative"),
        ("最初は繋がらなくて困りましたが、おかげで解決しました", "positive"),
        # ASR slips: no punctuation, kana for kanji, half-width katakana
        ("はいわかりましたありがとうございます助かりました", "positive"),
        ("ぜんぜんつながらないしこまってます", "negative"),
        ("ﾈｯﾄが繋がらなくて困ってます", "negative"),
        # questions ask for the good thing, they do not report it
        ("解決しますか？", "neutral"),
    ],
)
def test_lexicon_labels(scorer: LexiconScorer, text: str, label: str) -> None:
    assert _label(scorer, text) == label


@pytest.mark.parametrize(
    ("stronger", "weaker"),
    [
        ("全然つながらない", "つながらない"),  # intensifier
        ("本当に助かりました", "助かりました"),
        ("困ってます", "ちょっと困ってます"),  # diminisher
    ],
)
def test_intensifiers_scale(scorer: LexiconScorer, stronger: str, weaker: str) -> None:
    strong, weak = scorer.score([stronger, weaker])
    assert abs(strong) > abs(weak) > 0


def test_scores_are_bounded(scorer: LexiconScorer) -> None:
    text = "最悪最悪最悪、ひどい、ふざけるな、納得できない、ありえない、話にならない"
    assert -1.0 <= scorer.score([text])[0] < -0.9


def test_lexicon_has_hundreds_of_entries_and_neutral_topic_words() -> None:
    lexicon = load_lexicon(use_mlask=False)
    assert len(lexicon.lemmas) + len(lexicon.phrases) >= 300
    for word in ("料金", "問題", "請求"):
        assert lexicon.lemmas[word].weight == 0


def test_malformed_lexicon_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "lex.tsv"
    bad.write_text("# header\n助かる\tlemma\tvery\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"lex\.tsv:2"):
        load_lexicon(bad)


@pytest.mark.parametrize(
    ("score", "label"),
    [(0.5, "positive"), (0.15, "positive"), (0.1, "neutral"), (0.0, "neutral"), (-0.14, "neutral"), (-0.2, "negative")],
)
def test_score_label(score: float, label: str) -> None:
    assert score_label(score) == label


def _call(*turns: tuple[str, str]) -> list[Utterance]:
    return [Utterance(speaker=s, start_s=i * 5.0, end_s=i * 5.0 + 4.0, text=t) for i, (s, t) in enumerate(turns)]  # type: ignore[arg-type]


def test_summary_improving_call_with_apologising_agent(scorer: LexiconScorer) -> None:
    utterances = _call(
        ("agent", "お電話ありがとうございます、サポートセンターでございます"),
        ("customer", "ネットが全然つながらなくて本当に困ってるんです"),
        ("agent", "ご不便をおかけして申し訳ございません"),
        ("customer", "昨日からずっとなんですよ"),
        ("agent", "大変お待たせいたしました、ルーターを再起動していただけますか"),
        ("customer", "はい"),
        ("customer", "あ、つながりました"),
        ("customer", "助かりました、ありがとうございます"),
        ("agent", "とんでもないです、他にご不明な点はございますか"),
    )
    summary = summarise_sentiment(utterances, scorer.score([u.text for u in utterances]))
    assert summary.trajectory == "improving"
    assert summary.customer_start is not None and summary.customer_start < 0
    assert summary.customer_end is not None and summary.customer_end > 0
    assert summary.agent_mean is not None and summary.agent_mean >= 0


@pytest.mark.parametrize(
    ("scores", "trajectory"),
    [
        ([0.6, 0.5, 0.0, -0.5, -0.7, -0.8], "worsening"),
        ([-0.5, -0.6, -0.4, -0.5, -0.6, -0.5], "negative"),
        ([0.4, 0.5, 0.3, 0.5, 0.6, 0.4], "positive"),
        ([0.0, 0.0, 0.0], "neutral"),
        ([-0.6, 0.0, 0.0, 0.0, 0.7], "improving"),  # はい/ええ in between do not dilute
    ],
)
def test_summary_trajectories(scores: list[float], trajectory: str) -> None:
    utterances = _call(*[("customer", "テキスト")] * len(scores))
    assert summarise_sentiment(utterances, scores).trajectory == trajectory


def test_summary_of_mono_call_is_neutral_without_customer_means() -> None:
    utterances = [Utterance("unknown", 0.0, 1.0, "最悪です")]
    summary = summarise_sentiment(utterances, [-0.9])
    assert (summary.customer_mean, summary.agent_mean, summary.trajectory) == (None, None, "neutral")


def test_summary_rejects_mismatched_scores() -> None:
    with pytest.raises(InputError, match="2 scores for 1"):
        summarise_sentiment([Utterance("customer", 0.0, 1.0, "はい")], [0.0, 0.1])


_POS = ["助かりました", "ありがとうございます", "丁寧な対応で安心しました", "すぐ解決してよかったです", "とても分かりやすかったです",
        "おかげさまで直りました", "親切に教えていただきました", "問題なく使えています"]
_NEG = ["全然つながらないんです", "何度も電話してるんですよ", "最悪です", "納得できません", "ふざけないでください",
        "請求が二重になっていて困ってます", "対応が遅すぎます", "もう解約します"]


def test_train_sentiment_cross_validates_and_round_trips(tmp_path: Path) -> None:
    texts = _POS * 2 + _NEG * 2
    labels = ["positive"] * 16 + ["negative"] * 16
    scorer, report = train_sentiment(texts, labels, folds=4)
    assert isinstance(scorer, SentimentScorer)
    assert report.n_texts == 32 and report.class_counts == {"negative": 16, "positive": 16} and report.folds == 4
    assert 0.5 < report.cv_accuracy <= 1.0
    scores = scorer.score(["本当に助かりました", "最悪です"])
    assert scores[0] > 0 > scores[1]
    path = tmp_path / "model.pkl"
    scorer.save(path)
    assert TrainedSentimentScorer.load(path).score(["最悪です"]) == scorer.score(["最悪です"])
    assert TrainedSentimentScorer.load(scorer.to_bytes()).score(["助かりました"]) == scorer.score(["助かりました"])


@pytest.mark.parametrize(
    ("texts", "labels", "message"),
    [
        (_POS, ["positive"] * 8, "at least 20"),
        (_POS * 3, ["positive"] * 24, "2 classes"),
        (_POS * 3, ["positive"] * 23 + ["negative"], "2 classes"),
        (_POS * 3, ["positive"] * 12 + ["angry"] * 12, "unknown label"),
        (_POS, ["positive"], "one label per text"),
    ],
)
def test_train_sentiment_refuses_too_few_labels(texts: list[str], labels: list[str], message: str) -> None:
    with pytest.raises(TrainingError, match=message):
        train_sentiment(texts, labels)


def test_train_sentiment_from_csv_and_jsonl(tmp_path: Path) -> None:
    rows = [(t, "pos") for t in _POS * 2] + [(t, "neg") for t in _NEG * 2]
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text("text,label\n" + "".join(f"{t},{label}\n" for t, label in rows), encoding="utf-8")
    _, report = train_sentiment_from_file(csv_path)
    assert report.n_texts == 32
    jsonl = tmp_path / "labels.jsonl"
    jsonl.write_text("".join(f'{{"text": "{t}", "label": "{label}"}}\n' for t, label in rows), encoding="utf-8")
    assert train_sentiment_from_file(jsonl)[1].class_counts == {"negative": 16, "positive": 16}
    broken = tmp_path / "broken.csv"
    broken.write_text("sentence,label\nはい,neutral\n", encoding="utf-8")
    with pytest.raises(InputError, match="text,label"):
        train_sentiment_from_file(broken)


def test_trained_model_load_rejects_garbage(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot load"):
        TrainedSentimentScorer.load(b"not a pickle")
