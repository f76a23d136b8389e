"""Personal names in call transcripts: the name lists, and where a name is said.

A name is redacted where the way it is said marks it as one: before 〜と申します / 〜と言います,
before 様 / さん (the agent's echo), after 名前は, at the start of a turn that answers a name question,
or as a full name (surname + given name) read by the tagger. The lists of
``japanese-personal-name-dataset`` (MIT; surnames with readings, given names with kanji spellings)
and UniDic's person-name tag (``pos3 == "人名"``) confirm a name where the cue alone is weak (a
surname alone before です, a katakana or hiragana run). The agent's own name when the agent
introduces themselves (「担当の佐藤です」, 「佐藤が承りました」) is an employee's, not the customer's,
and is kept.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = ["NameLexicon", "NameScan", "agent_own_names", "load_name_lexicon", "name_spans", "to_hiragana"]


@dataclass(frozen=True, slots=True)
class NameLexicon:
    """Japanese surnames and given names, in kanji, hiragana reading and romaji.

    Attributes:
        surnames: Surnames in kanji (佐藤).
        surname_readings: Surname readings in hiragana (さとう).
        given: Given names in kanji (太郎, 花子).
        given_readings: Given-name readings in hiragana (たろう).
        romaji: Surnames and given names in lower-case romaji, with and without long vowels
            (satou, sato).

    """

    surnames: frozenset[str]
    surname_readings: frozenset[str]
    given: frozenset[str]
    given_readings: frozenset[str]
    romaji: frozenset[str]

    def is_reading(self, kana: str) -> bool:
        """Whether ``kana`` (hiragana) reads as a surname, a given name, or surname + given name."""
        if kana in self.surname_readings or kana in self.given_readings:
            return True
        return self.splits(kana, self.surname_readings, self.given_readings)

    def is_kanji_name(self, text: str) -> bool:
        """Whether ``text`` is a listed surname, given name or surname + given name in kanji."""
        return text in self.surnames or text in self.given or self.splits(text, self.surnames, self.given)

    @staticmethod
    def splits(text: str, first: frozenset[str], second: frozenset[str]) -> bool:
        """Whether ``text`` is a word of ``first`` followed by a word of ``second``."""
        return any(text[:k] in first and text[k:] in second for k in range(1, len(text)))


@lru_cache(maxsize=1)
def load_name_lexicon() -> NameLexicon:
    """Load the name lists of ``japanese-personal-name-dataset`` once per process (offline)."""
    from japanese_personal_name_dataset import load_dataset

    men, women, last = load_dataset(kind="org", include_last_names=True)
    given_readings = set(men) | set(women)
    given = {kanji for names in (men, women) for entry in names.values() for kanji in entry["kanji"]}
    romaji: set[str] = set()
    for word in [e["en"] for e in last.values()] + [e["en"] for n in (men, women) for e in n.values()]:
        romaji.update({word, word.replace("ou", "o").replace("uu", "u"), word.replace("ou", "oh")})
    return NameLexicon(
        surnames=frozenset(last),
        surname_readings=frozenset(e["reading"] for e in last.values()),
        given=frozenset(given),
        given_readings=frozenset(given_readings),
        romaji=frozenset(romaji),
    )


def to_hiragana(text: str) -> str:
    """Katakana to hiragana; a long-vowel mark after an o/u-row kana becomes う (サトー -> さとう)."""
    out: list[str] = []
    for ch in text:
        code = ord(ch)
        if 0x30A1 <= code <= 0x30F6:
            out.append(chr(code - 0x60))
        elif ch == "ー" and out and out[-1] in "おこそとのほもよろごぞどぼぽょうくすつぬふむゆるぐずづぶぷゅ":
            out.append("う")
        else:
            out.append(ch)
    return "".join(out)


# ------------------------------------------------------------------------------- patterns
_KANJI = r"[一-龥々〆ヶ]"
_KATA = r"[ァ-ヶ][ァ-ヶー]{0,9}"
# One name as written: kanji (山田 / 山田太郎 / 山田 太郎), katakana (ヤマダタロウ / ヤマダ・タロウ),
# or romaji (Yamada Taro). Bounded repetitions only.
_NAME = (
    rf"(?:{_KANJI}{{1,4}}[ 　]{_KANJI}{{1,4}}|{_KANJI}{{1,6}}"
    rf"|{_KATA}(?:[ 　・]{_KATA})?|[A-Za-z]{{2,12}}(?: [A-Za-z]{{2,12}})?)"
)
_SELF = r"(?:と申し|ともうし|と申す|と言い|といい|と言う|という|って言い|っていい|っていう|っていいます)"
_DESU = r"(?:です|でございます|でした|になります|になってます|になっています)"
# The agent's own name: the agent's self-introduction and sign-off.
_AGENT_ACT = r"(?:が承り|がうけたまわり|が担当|がご案内|が対応|がお受け|が確認|がお調べ|が折り返し|より)"
_HONORIFIC = r"(?:様(?![々子])|さま|さん|殿|氏)"
_BEFORE_SELF = re.compile(rf"({_NAME})(?=\s*{_SELF})")
_BEFORE_AGENT_ACT = re.compile(rf"({_NAME})(?=\s*{_AGENT_ACT})")
_BEFORE_HONORIFIC = re.compile(rf"({_NAME})(?=\s*{_HONORIFIC})")
_BEFORE_DESU = re.compile(rf"({_NAME})(?=\s*{_DESU})")
_HIRAGANA_BEFORE_SELF = re.compile(rf"([ぁ-ゖ]{{2,12}})(?=\s*{_SELF})")
# Cues after which the next name-like run is the caller's (or a family member's) name.
_NAME_CUE = re.compile(
    r"(?:お?名前|氏名|フルネーム|名義|契約者|名義人|フリガナ|ふりがな|カタカナ|かたかな|漢字|読み方|読み|名字|苗字|みょうじ)"
    r"(?:は|が|で|を|の方は|人は)?[、,\s]*(?:えっと|えーと|あの|えー)?[、,\s]*"
)
_TURN_LEAD = re.compile(r"^(?:[、,。.\s]|はい|ええ|えっと|えーと|えー|あの|あのー|うん|そう|そうです|わたし|私|わたくし|僕|俺|もしもし|あ)*")
# Self-introduction cues before 〜です (「もしもし、山田です」, 「担当の藤井です」).
_DESU_CUES = ("担当の", "担当", "もしもし", "名前は", "名前が", "名義は", "契約者の", "契約者は", "の方の",
              "センターの", "窓口の", "サポートの", "私", "わたし", "わたくし", "私は", "わたしは", "氏名は")
# Leading role words that are not part of a name (契約者山田 -> 山田).
_ROLE_PREFIXES = ("担当者", "契約者", "名義人", "担当", "本人", "窓口", "係", "私", "僕", "俺", "妻", "夫", "父", "母")
# Runs before 様/さん/です that are not names.
_NOT_NAMES = frozenset(
    ["客", "皆", "奥", "旦那", "神", "王", "同", "仕", "模", "異", "多", "一", "左", "有", "貴", "各", "殿", "上",
     "外", "子", "兄", "姉", "父", "母", "爺", "婆", "息子", "娘", "皆々", "お客", "大家", "先生", "先輩", "後輩",
     "隣", "近所", "皆皆", "三", "二", "方", "何", "誰", "本人", "主人", "家族", "利用", "営業", "事務", "受付",
     "窓口", "担当", "業者", "配達", "運送", "管理", "大将", "親方", "女将", "職人", "店", "会社", "以上", "名前",
     "契約", "解約", "自分", "私", "本当", "大丈夫", "結構", "了解", "確認", "以上です", "氏名", "フルネーム",
     "オペレーター", "スタッフ", "ドライバー", "サービス", "センター", "カスタマー", "サポート", "メール",
     "アドレス", "カタカナ", "ひらがな", "漢字", "ローマ字", "はい", "いいえ", "お願い", "名義", "電話"]
)  # fmt: skip
_NOT_NAME_SUFFIXES = ("者", "員", "手", "屋", "長", "師", "士", "社", "店", "局", "課", "部", "会社", "様", "所",
                      "センター", "サービス", "係", "番号", "料", "金", "日", "月", "年", "駅", "市", "区", "町", "方")
# A person-name token followed by one of these names a company, shop or place (山田電機, 佐野駅).
_ORG_AFTER = re.compile(
    r"\s*(?:電機|電気|商事|工業|産業|建設|製作所|工務店|商店|不動産|運輸|銀行|信金|生命|損保|証券|保険|病院|医院|"
    r"クリニック|薬局|ホーム|株式会社|興業|物産|食品|自動車|モータース|駅|市|区|町|村|郡|店|通り|橋|川|山|線|ビル|"
    r"ホール|学校|大学|高校|中学|小学校)"
)


@dataclass(frozen=True, slots=True)
class NameScan:
    """What :func:`name_spans` needs to know about the utterance it scans.

    Attributes:
        role: ``agent``, ``customer`` or ``unknown`` (unknown: every self-introduction is redacted).
        asked: The previous turns asked for a name (お名前をお願いします), or the previous turn of
            this speaker ended on a name: the name-like run opening this turn is one.
        agent_names: The agent's own names in this call (from their self-introductions): kept.

    """

    role: str = "unknown"
    asked: bool = False
    agent_names: frozenset[str] = frozenset()


def _person_name_tokens(tagger: Any, text: str) -> list[tuple[int, int, str]]:
    """``(start, end, pos4)`` of each UniDic person-name token of ``text`` (pos4: 姓 or 名).

    Errors propagate: redaction fails closed (the caller withholds the utterance), so a tagger
    that cannot read the text is never taken to mean "no name here".
    """
    if tagger is None:
        return []
    tagger_fn: Callable[[str], Iterable[Any]] = getattr(tagger, "tagger", tagger)
    out, position = [], 0
    for word in tagger_fn(text):
        surface = str(word.surface)
        start = text.find(surface, position)
        if start < 0:
            continue
        position = start + len(surface)
        feature = word.feature
        if getattr(feature, "pos3", "") == "人名":
            out.append((start, position, str(getattr(feature, "pos4", ""))))
    return out


def _lead(text: str) -> int:
    """Where a turn's content starts, after はい, えっと, もしもし and the like."""
    m = _TURN_LEAD.match(text)
    return m.end() if m is not None else 0


def _strip_role(run: str, start: int) -> tuple[str, int]:
    for prefix in _ROLE_PREFIXES:
        if run.startswith(prefix) and len(run) > len(prefix):
            return run[len(prefix):], start + len(prefix)
    return run, start


def _not_a_name(run: str, text: str, start: int) -> bool:
    bare = run.replace(" ", "").replace("　", "")
    if bare in _NOT_NAMES or bare.endswith(_NOT_NAME_SUFFIXES) or not bare:
        return True
    # ご本人様, お子様, ご家族様: an honorific prefix marks a common noun, not a name.
    return text[start - 1 : start] in ("ご", "お") and bool(re.match(_KANJI, bare))


def _listed(
    run: str, lexicon: NameLexicon, tagged: list[tuple[int, int, str]], start: int, end: int, *, given: bool = True
) -> bool:
    """Whether the name lists or the tagger confirm ``run`` (at ``start:end``) as a name.

    With ``given=False`` a given name alone does not count: the lists hold given names that are
    also common words (明日, 光, 誠), so a run confirmed only as one needs a stronger cue.
    """
    bare = re.sub(r"[ 　・]", "", run)
    kana = to_hiragana(bare)
    if given and (lexicon.is_kanji_name(bare) or lexicon.is_reading(kana)):
        return True
    if bare in lexicon.surnames or kana in lexicon.surname_readings:
        return True
    if lexicon.splits(bare, lexicon.surnames, lexicon.given) or lexicon.splits(
        kana, lexicon.surname_readings, lexicon.given_readings
    ):
        return True
    if bare.isascii() and all(w.lower() in lexicon.romaji for w in run.split()):
        return True
    covered = [(s, e) for s, e, _ in tagged if s < end and start < e]
    return bool(covered) and covered[0][0] <= start and covered[-1][1] >= end


def agent_own_names(text: str) -> set[str]:
    """Names an agent gives as their own in ``text`` (「担当の佐藤です」, 「佐藤が承りました」)."""
    found: set[str] = set()
    for pattern in (_BEFORE_SELF, _BEFORE_AGENT_ACT, _BEFORE_DESU):
        for m in pattern.finditer(text):
            run, start = _strip_role(m[1], m.start(1))
            if pattern is _BEFORE_DESU and not _is_intro_position(text, start):
                continue
            if not _not_a_name(run, text, start) and not re.match(rf"\s*{_HONORIFIC}", text[m.end() : m.end() + 4]):
                found.add(run)
    return found


def _is_intro_position(text: str, start: int) -> bool:
    before = text[max(0, start - 8) : start]
    return start == _lead(text) or before.endswith(("の", "担当", "、", " ")) or any(
        before.endswith(cue) for cue in _DESU_CUES
    )


def name_spans(text: str, scan: NameScan, *, lexicon: NameLexicon, tagger: Any) -> list[tuple[int, int]]:
    """Spans of personal names in one (width-folded) utterance.

    Args:
        text: The utterance, width-folded.
        scan: Who speaks and what the call said before (:class:`NameScan`).
        lexicon: From :func:`load_name_lexicon`.
        tagger: A fugashi Tagger (or an object holding one as ``tagger``), or ``None``.

    Returns:
        ``(start, end)`` character spans, possibly overlapping (the caller merges them).

    """
    tagged = _person_name_tokens(tagger, text) if tagger is not None else []
    agent = scan.role == "agent"
    spans: list[tuple[int, int]] = []

    def add(run: str, start: int) -> None:
        bare = run.strip(" 　")
        if bare and bare not in scan.agent_names:
            spans.append((start, start + len(bare)))

    for m in _BEFORE_SELF.finditer(text):
        run, start = _strip_role(m[1], m.start(1))
        if not agent and not _not_a_name(run, text, start):
            add(run, start)
    for m in _HIRAGANA_BEFORE_SELF.finditer(text):
        run = m[1]
        for k in range(len(run) - 1):  # the longest listed reading that ends the run
            if lexicon.is_reading(run[k:]):
                if not agent:
                    add(run[k:], m.start(1) + k)
                break
    for m in _BEFORE_AGENT_ACT.finditer(text):
        run, start = _strip_role(m[1], m.start(1))
        if scan.role == "unknown" and not _not_a_name(run, text, start):
            add(run, start)
    for m in _BEFORE_HONORIFIC.finditer(text):
        run, start = _strip_role(m[1], m.start(1))
        if _not_a_name(run, text, start):
            continue
        after = text[m.end() : m.end() + 4].lstrip()
        if after.startswith("さ") and not after.startswith("さま"):
            # 〜さん is said of many things (大家さん, 営業さん): a listed or tagged name only.
            if not _listed(run, lexicon, tagged, start, m.end(1)):
                continue
        elif not re.match(_KANJI, run) and not _listed(run, lexicon, tagged, start, m.end(1)):
            continue  # a katakana/romaji run before 様: a listed or tagged name only
        add(run, start)
    for m in _BEFORE_DESU.finditer(text):
        run, start = _strip_role(m[1], m.start(1))
        if agent or _not_a_name(run, text, start):
            continue
        before = text[max(0, start - 6) : start]
        cued = any(before.endswith(cue) for cue in _DESU_CUES)
        opening = start == _lead(text)
        listed = _listed(run, lexicon, tagged, start, m.end(1), given=False)
        # 「ABC商事の田中です」: a caller from a company introduces themselves as an agent does.
        if cued or (opening and (scan.asked or listed)) or (listed and _is_intro_position(text, start)):
            add(run, start)
    if not agent:
        spans += _answer_spans(text, scan, lexicon, tagged)
        spans += [(s, e) for s, e in _full_names(text, tagged) if text[s:e] not in scan.agent_names]
    return spans


def _answer_spans(text: str, scan: NameScan, lexicon: NameLexicon, tagged: list[tuple[int, int, str]]) -> list[tuple[int, int]]:
    """The name opening a turn that answers a name question, and names right after a name cue."""
    starts = [m.end() for m in _NAME_CUE.finditer(text)]
    if scan.asked:
        starts.insert(0, _lead(text))
    out = []
    name_at = re.compile(_NAME)
    for start in starts:
        m = name_at.match(text, start)
        if m is None:
            hira = re.compile(r"[ぁ-ゖ]{2,12}").match(text, start)
            if hira is not None:  # やまだたろうです: the longest listed reading from the start
                for k in range(len(hira[0]), 1, -1):
                    if lexicon.is_reading(hira[0][:k]):
                        out.append((start, start + k))
                        break
            continue
        run = m[0].rstrip(" 　・")
        if _not_a_name(run, text, start) or _ORG_AFTER.match(text, m.end()):
            continue
        if scan.asked or _listed(run, lexicon, tagged, start, start + len(run)) or re.match(_KATA, run):
            out.append((start, start + len(run)))
    return out


def _full_names(text: str, tagged: list[tuple[int, int, str]]) -> list[tuple[int, int]]:
    """A surname token followed by a given-name token (山田太郎, ヤマダ タロウ): a full name anywhere."""
    out = []
    for (s1, e1, p1), (s2, e2, p2) in itertools.pairwise(tagged):
        if p1 == "姓" and p2 == "名" and text[e1:s2].strip(" 　・") == "" and not _ORG_AFTER.match(text, e2):
            out.append((s1, e2))
    return out
