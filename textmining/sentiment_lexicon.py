"""The sentiment lexicon: the bundled call-centre TSV, its loader, and the ML-Ask back-off.

The lexicon (``lexicon/sentiment_ja.tsv``, Apache-2.0) is matched on UniDic lemmas, so one entry
covers every politeness level and tense (助かる covers 助かった, 助かりました, 助かります). Words
about a topic (料金, 請求, 問題) carry no feeling by themselves; only their negation does
(問題ありません). Agent politeness formulas (申し訳ございません, ご不便をおかけして) are surface
phrases, matched on the normalised text, so the scorer can mask the words inside them.

Lemmas the call-centre lexicon does not list fall back to ML-Ask's emotion words (pymlask, BSD-3)
at a weak ±0.25, when pymlask is installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from koe.errors import InputError
from textmining.normalise import normalise_text
from textmining.tokens import load_tagger, tokenize

__all__ = ["DEFAULT_LEXICON", "Lexicon", "LexiconEntry", "default_lexicon", "load_lexicon"]

#: The bundled call-centre lexicon.
DEFAULT_LEXICON = Path(__file__).parent / "lexicon" / "sentiment_ja.tsv"


@dataclass(frozen=True, slots=True)
class LexiconEntry:
    """A lemma's weight in [-1, 1], and its weight when negated (良くない, 不便)."""

    weight: float
    negated: float


@dataclass(frozen=True, slots=True)
class Lexicon:
    """A loaded sentiment lexicon (see ``lexicon/sentiment_ja.tsv`` for the format)."""

    lemmas: dict[str, LexiconEntry]
    phrases: dict[str, float]
    intensifiers: dict[str, float]


def _default_negated(weight: float) -> float:
    # 悪くない is mildly positive; 良くない is nearly as negative as 悪い.
    return -0.5 * weight if weight < 0 else -0.8 * weight


def load_lexicon(path: Path | None = None, *, use_mlask: bool = True) -> Lexicon:
    """Load a sentiment lexicon TSV.

    Args:
        path: A TSV of ``term, match, weight[, negated_weight]``; defaults to the bundled
            call-centre lexicon.
        use_mlask: Also load ML-Ask's emotion words (pymlask, BSD-3) as a weak back-off
            (±0.25) for lemmas the call-centre lexicon does not list. Skipped when pymlask is
            not installed.

    Returns:
        The lexicon.

    Raises:
        InputError: A line of the file is malformed.

    """
    if path is None:
        text = DEFAULT_LEXICON.read_text("utf-8")
        origin = "textmining/lexicon/sentiment_ja.tsv"
    else:
        text, origin = path.read_text("utf-8"), str(path)
    lemmas: dict[str, LexiconEntry] = dict(_mlask_entries()) if use_mlask else {}
    phrases: dict[str, float] = {}
    intensifiers: dict[str, float] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        try:
            term, kind, weight = cells[0], cells[1], float(cells[2])
            negated = float(cells[3]) if len(cells) > 3 and cells[3].strip() else _default_negated(weight)
        except (IndexError, ValueError) as exc:
            raise InputError(f"{origin}:{number}: expected 'term<TAB>match<TAB>weight[<TAB>negated]'") from exc
        if kind == "lemma":
            lemmas[term] = LexiconEntry(weight, negated)
        elif kind == "surface":
            phrases[normalise_text(term)] = weight
        elif kind == "intensifier":
            intensifiers[normalise_text(term)] = weight
        else:
            raise InputError(f"{origin}:{number}: match must be lemma, surface or intensifier, not {kind!r}")
    return Lexicon(lemmas, phrases, intensifiers)


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The bundled lexicon with the ML-Ask back-off, loaded once per process."""
    return load_lexicon()


# ML-Ask emotion classes used as back-off; surprise and excitement (驚, 昂) carry no polarity.
_MLASK_POLARITY = {
    "yorokobi": 0.25, "suki": 0.25, "yasu": 0.25,
    "ikari": -0.25, "iya": -0.25, "kowa": -0.25, "aware": -0.25, "haji": -0.25,
}


@lru_cache(maxsize=1)
def _mlask_entries() -> tuple[tuple[str, LexiconEntry], ...]:
    try:
        base = resources.files("mlask").joinpath("emotions")
    except (ModuleNotFoundError, OSError, TypeError):
        return ()  # pymlask not installed (or not a regular package): no back-off
    tagger = load_tagger()
    entries: dict[str, LexiconEntry] = {}
    for emotion, weight in _MLASK_POLARITY.items():
        try:
            words = base.joinpath(f"{emotion}_uncoded.txt").read_text("utf-8").split()
        except OSError:
            continue
        for word in words:
            tokens = [t for t in tokenize(normalise_text(word), tagger=tagger) if t.pos != "補助記号"]
            # Only single-word entries: multi-word idioms would need phrase matching.
            # Adverbs (きちんと, さっぱり) describe manner more often than feeling in a call.
            if len(tokens) == 1 and tokens[0].pos in ("名詞", "動詞", "形容詞", "形状詞"):
                entries.setdefault(tokens[0].lemma, LexiconEntry(weight, _default_negated(weight)))
    return tuple(entries.items())
