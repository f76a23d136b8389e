from __future__ import annotations

import json
import random

import pytest

from koe.errors import ConfigError, TrainingError
from koe.records import TopicWeight, Utterance
from textmining.tokens import content_tokens
from textmining.topic_documents import document_tokens, representative_quotes
from textmining.topic_ids import map_topics, renumber_topics
from textmining.topic_seeds import load_topic_seeds
from textmining.topics import TopicModel, assign_topics, fit_topic_model, is_label_term, primary_topic

THEMES = {
    "billing": [
        "先月の請求書の金額がおかしいです",
        "請求額が二重に引き落とされています",
        "クレジットカードの引き落とし日を確認したい",
        "料金の明細が届いていません",
        "請求書の支払い方法を変更したい",
        "口座振替の手続きについて聞きたいです",
    ],
    "network": [
        "インターネットが繋がらないんです",
        "ルーターのランプが赤く点滅しています",
        "回線の速度が遅くて困っています",
        "通信が途中で切れてしまうんです",
        "モデムを再起動しても接続できない",
        "通信障害が起きていますか",
    ],
    "cancel": [
        "解約の手続きをしたいです",
        "契約を解除したいので違約金を知りたい",
        "他社に乗り換えるので解約したい",
        "解約金がいくらかかるか教えてください",
        "プランを解約して退会したい",
        "解約の書類を送ってほしい",
    ],
}
ANCHORS = {"billing": "請求書", "network": "通信", "cancel": "解約"}


def _corpus(seed: int, per_theme: int = 10) -> tuple[list[list[str]], list[str]]:
    rng = random.Random(seed)
    docs, truth = [], []
    for name, sentences in THEMES.items():
        for _ in range(per_theme):
            docs.append([t for s in rng.sample(sentences, 3) for t in content_tokens(s)])
            truth.append(name)
    order = list(range(len(docs)))
    rng.shuffle(order)
    return [docs[i] for i in order], [truth[i] for i in order]


@pytest.fixture(scope="module")
def corpus() -> tuple[list[list[str]], list[str]]:
    return _corpus(0)


@pytest.fixture(scope="module")
def model(corpus: tuple[list[list[str]], list[str]]) -> TopicModel:
    return fit_topic_model(corpus[0])


def test_fit_recovers_three_themes(model: TopicModel, corpus: tuple[list[list[str]], list[str]]) -> None:
    docs, truth = corpus
    assert model.n_topics == 3  # chosen from the data
    topic_of_theme: dict[str, set[int]] = {}
    for doc, theme in zip(docs, truth, strict=True):
        topic_of_theme.setdefault(theme, set()).add(assign_topics(model, doc)[0].topic_id)
    # every theme lands in exactly one topic, and different themes in different topics
    assert all(len(ids) == 1 for ids in topic_of_theme.values())
    assert len({next(iter(ids)) for ids in topic_of_theme.values()}) == 3
    for theme, anchor in ANCHORS.items():
        topic = next(iter(topic_of_theme[theme]))
        assert any(anchor in term for term in model.top_terms[model.topic_ids.index(topic)][:5])


def test_labels_are_nouns_from_the_topic_terms(model: TopicModel) -> None:
    for label in model.labels:
        terms = label.split("・")
        assert 1 <= len(terms) <= 3
        assert all(is_label_term(term) for term in terms)


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("請求書", True),
        ("クレジットカード", True),
        ("ルーター", True),
        ("解約", True),
        ("変える", False),  # verbs say what happens in any call
        ("届く", False),
        ("おかしい", False),
        ("成旧", False),  # a recogniser's misspelling UniDic splits into single kanji
    ],
)
def test_label_terms_are_dictionary_nouns(term: str, expected: bool) -> None:
    assert is_label_term(term) is expected


def test_model_round_trips_through_json(model: TopicModel) -> None:
    data = json.loads(json.dumps(model.to_dict(), ensure_ascii=False))
    again = TopicModel.from_dict(data)
    assert again == model
    doc = content_tokens("請求書の金額がおかしいので確認したい")
    assert assign_topics(again, doc) == assign_topics(model, doc)


def test_from_dict_rejects_inconsistent_shapes(model: TopicModel) -> None:
    data = model.to_dict()
    data["idf"] = data["idf"][:-1]
    with pytest.raises(TrainingError, match="inconsistent"):
        TopicModel.from_dict(data)


def test_version_is_a_content_hash(corpus: tuple[list[list[str]], list[str]], model: TopicModel) -> None:
    assert fit_topic_model(corpus[0]).version == model.version
    assert fit_topic_model(corpus[0], n_topics=2).version != model.version


def test_assign_topics_weights(model: TopicModel) -> None:
    mixed = content_tokens("解約したいんですが、その前に先月の請求書の金額を確認したい")
    weights = assign_topics(model, mixed)
    assert len(weights) == 2
    assert sum(w.weight for w in weights) == pytest.approx(1.0, abs=1e-3)
    assert weights[0].weight >= weights[1].weight
    assert assign_topics(model, ["宇宙旅行"]) == ()


def test_refit_keeps_topic_ids(model: TopicModel) -> None:
    previous = renumber_topics(model, {0: 7, 1: 3, 2: 11})  # ids from an older history
    refit = fit_topic_model(_corpus(seed=5, per_theme=12)[0], n_topics=3, random_state=1)
    mapping = map_topics(previous, refit)
    assert sorted(mapping.values()) == [3, 7, 11]
    for new_index, topic_id in mapping.items():
        old_terms = set(previous.top_terms[previous.topic_ids.index(topic_id)][:5])
        assert old_terms & set(refit.top_terms[new_index][:5])


def test_unmatched_topics_get_fresh_ids(model: TopicModel, corpus: tuple[list[list[str]], list[str]]) -> None:
    docs = corpus[0] + [content_tokens("配送された商品が壊れていて交換したい 商品 配送 交換 破損")] * 6
    refit = fit_topic_model(docs, n_topics=4)
    mapping = map_topics(model, refit)
    assert sorted(mapping.values()) == [0, 1, 2, 3]  # three kept, the new delivery topic gets id 3
    delivery = next(i for i, terms in enumerate(refit.top_terms) if "商品" in terms[:3])
    assert mapping[delivery] == 3


@pytest.mark.parametrize("n_docs", [1, 3, 5])
def test_tiny_corpus_gets_a_single_topic(n_docs: int) -> None:
    docs = [content_tokens("インターネットが繋がらない")] * n_docs
    tiny = fit_topic_model(docs)
    assert tiny.n_topics == 1


@pytest.mark.parametrize(
    ("docs", "n_topics", "message"),
    [([[], []], None, "no call has content tokens"), ([["請求書", "料金"]] * 3, 5, "cannot fit 5 topics")],
)
def test_fit_errors(docs: list[list[str]], n_topics: int | None, message: str) -> None:
    with pytest.raises(TrainingError, match=message):
        fit_topic_model(docs, n_topics=n_topics)


def _utt(speaker: str, text: str) -> Utterance:
    return Utterance(speaker=speaker, start_s=0.0, end_s=1.0, text=text)  # type: ignore[arg-type]


def test_document_tokens_weights_customer_and_drops_agent_scripts() -> None:
    utterances = [
        _utt("agent", "お電話ありがとうございます、サポートセンターでございます"),
        _utt("customer", "インターネットが繋がらないんです"),
        _utt("agent", "ルーターを再起動していただけますか"),
        _utt("agent", "電話が繋がらない状態ですね"),
    ]
    tokens = [content_tokens(u.text) for u in utterances]
    doc = document_tokens(utterances, tokens, customer_weight=2)
    assert doc.count("インターネット") == 2
    assert doc.count("ルーター") == 1
    assert doc.count("電話") == 1  # the greeting's 電話 is script; the agent's echo of the problem is not
    assert "サポートセンター" not in doc


def test_representative_quotes_pick_customer_utterances(model: TopicModel) -> None:
    utterances = [
        _utt("customer", "解約の手続きをしたいんですけど違約金はいくらですか"),
        _utt("agent", "解約の手続きと違約金についてご説明します"),
        _utt("customer", "ルーターのランプが点滅しています"),
        _utt("customer", "はい"),
        _utt("customer", "他社に乗り換えるので解約したいです"),
    ]
    tokens = [content_tokens(u.text) for u in utterances]
    cancel = assign_topics(model, content_tokens("解約したい 違約金"))[0].topic_id
    quotes = representative_quotes(model, cancel, utterances, tokens, n=2)
    assert set(quotes) == {utterances[0].text, utterances[4].text}
    redacted = ["A", "B", "C", "D", "E"]
    assert representative_quotes(model, cancel, utterances, tokens, texts=redacted, n=1)[0] in {"A", "E"}


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        ([], None),
        ([(3, 0.7), (5, 0.3)], 3),
        ([(5, 0.3), (3, 0.7)], 3),  # order does not matter
        ([(1, 0.25), (2, 0.25), (3, 0.25), (4, 0.25)], None),  # spread thin: その他
        ([(4, 0.5), (2, 0.5)], 2),  # a tie goes to the lower id, so reruns agree
    ],
)
def test_primary_topic(weights: list[tuple[int, float]], expected: int | None) -> None:
    primary = primary_topic([TopicWeight(i, f"t{i}", w) for i, w in weights])
    assert (primary.topic_id if primary else None) == expected


def test_each_call_of_a_fitted_model_has_at_most_one_primary_topic(model: TopicModel, corpus) -> None:
    docs, truth = corpus
    primaries = [primary_topic(assign_topics(model, doc)) for doc in docs]
    # the clean three-theme corpus: every call has a primary topic, and it is its theme's topic
    assert all(p is not None for p in primaries)
    by_theme: dict[str, set[int]] = {}
    for p, theme in zip(primaries, truth, strict=True):
        by_theme.setdefault(theme, set()).add(p.topic_id)  # type: ignore[union-attr]
    assert all(len(ids) == 1 for ids in by_theme.values())


SEEDS_YAML = """
reasons:
  - name: 請求金額の確認
    words: [請求書, 金額, 明細]
  - name: 解約・退会
    words: [解約]
    examples: ["違約金がいくらか知りたい"]
  - name: 宇宙旅行
    words: [宇宙旅行]
"""


@pytest.fixture(scope="module")
def seeded(corpus: tuple[list[list[str]], list[str]], tmp_path_factory: pytest.TempPathFactory) -> TopicModel:
    path = tmp_path_factory.mktemp("seeds") / "seeds.yaml"
    path.write_text(SEEDS_YAML, encoding="utf-8")
    return fit_topic_model(corpus[0], seeds=load_topic_seeds(path))


def test_known_reasons_keep_their_names_and_the_rest_is_discovered(seeded: TopicModel) -> None:
    assert seeded.n_topics == 3
    assert "請求金額の確認" in seeded.labels and "解約・退会" in seeded.labels
    assert "宇宙旅行" not in seeded.labels  # a reason no call mentions gets no topic
    discovered = [label for label, origin in zip(seeded.labels, seeded.origins, strict=True) if not origin]
    assert len(discovered) == 1 and "通信" in "".join(seeded.top_terms[seeded.labels.index(discovered[0])][:5])


@pytest.mark.parametrize(
    ("sentence", "reason"),
    [
        ("先月の請求書の金額が高すぎる気がします", "請求金額の確認"),
        ("明細を見たら請求書の金額がおかしい", "請求金額の確認"),
        ("解約したいので手続きを教えてください", "解約・退会"),
        ("他社に乗り換えるので解約します、違約金はかかりますか", "解約・退会"),
    ],
)
def test_calls_land_in_their_seeded_reason(seeded: TopicModel, sentence: str, reason: str) -> None:
    primary = primary_topic(assign_topics(seeded, content_tokens(sentence)))
    assert primary is not None and primary.label == reason


def test_seeded_model_round_trips(seeded: TopicModel) -> None:
    assert TopicModel.from_dict(json.loads(json.dumps(seeded.to_dict(), ensure_ascii=False))) == seeded


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("reasons: []", "non-empty 'reasons'"),
        ("reasons:\n  - words: [解約]", "missing 'name'"),
        ("reasons:\n  - name: 解約", "give 'words' or 'examples'"),
        ("reasons:\n  - name: 解約\n    words: 解約", "list of non-empty strings"),
        ("reasons:\n  - name: 解約\n    words: [解約]\n    colour: red", "unknown field"),
        ("reasons:\n  - name: a\n    words: [x]\n  - name: a\n    words: [y]", "duplicate name"),
    ],
)
def test_bad_seed_files_name_the_problem(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "seeds.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_topic_seeds(path)
