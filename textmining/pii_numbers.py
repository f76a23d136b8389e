"""Personal numbers in call transcripts, however the digits are said.

Phone, card, bank account, member and policy numbers, postal codes and dates of birth.
Digits are read in every form callers and ASR give them, mixed within one number: ASCII and
full-width digits, kanji digits one by one (〇九〇), spoken kana (ゼロキューゼロ, まるいち), with the
pauses people put between groups (-, space, 、, の). A run on its own is personal when its shape
says so (a 10-11 digit number starting with 0, a Luhn-valid card number, 8 digits or more); a shorter
run is when a cue before it says what it is (電話は, 口座番号, 会員番号, 郵便番号), or the call's last
turns asked for that detail (「生年月日をお願いします」 then 「昭和六十年…」).
"""

from __future__ import annotations

import re

from textmining.spoken import DIGIT_WORDS, KANJI_DIGITS, LETTER_NAMES, PARTICLE_DIGITS

__all__ = ["DIGIT_KINDS", "birthdate_spans", "cued_kinds", "digit_spans", "luhn_valid"]

#: Kinds of personal number a cue or a question can announce.
DIGIT_KINDS = ("phone", "card", "account", "number", "postal", "birthdate")

_UNIT_TO_DIGIT = DIGIT_WORDS | KANJI_DIGITS
_DIGIT_ALTS = "|".join(sorted(_UNIT_TO_DIGIT, key=len, reverse=True))
_LETTER_ALTS = "|".join(sorted(LETTER_NAMES, key=len, reverse=True))
# Longer alternatives first, so ゴー is not read as ゴ + separator. The separator is bounded and the
# repetition is not nested in another: a failing extension costs a constant number of steps.
_SEP = r"[\s\-ー、の・()]{0,2}"
_DIGIT_UNIT = rf"(?:[0-9]|{_DIGIT_ALTS})"
_ALNUM_UNIT = rf"(?:[0-9A-Za-z]|{_DIGIT_ALTS}|{_LETTER_ALTS})"
_DIGIT_RUN = re.compile(rf"(?<![0-9])(?:\+81[\s\-]?)?{_DIGIT_UNIT}(?:{_SEP}{_DIGIT_UNIT})*")
_ALNUM_RUN = re.compile(rf"(?<![0-9A-Za-z]){_ALNUM_UNIT}(?:{_SEP}{_ALNUM_UNIT})*")
_UNIT_ITER = re.compile(rf"[0-9A-Za-z]|{_DIGIT_ALTS}|{_LETTER_ALTS}")
# A run followed by a counter or unit is a price, quantity, time or size, not an identifier.
_COUNTER = re.compile(
    r"\s*(?:円|万|千|百|億|個|台|本|枚|件|回|分|秒|時|日|ヶ月|か月|カ月|ヵ月|月|年|歳|才|人|名|%|％|パーセント|"
    r"GB|ギガ|MB|メガ|倍|階|号機|号車|番目|番線|インチ|型|点|通|箱|セット|km|キロ|kg|グラム|割|ポイント|円引|"
    r"週|泊|錠|杯|冊|足|着|組|世帯|軒|店|丁目|番地|番|号)"
)
# What a cue announces. Product and model numbers are named so that they win over 番号.
_CUES: tuple[tuple[str, str], ...] = (
    ("product", r"型番|品番|型式|モデル|機種|製品番号|商品番号|商品コード|シリアル|製造番号|JAN|注文番号|伝票番号|追跡番号|お問い合わせ番号"),
    ("birthdate", r"生年月日|誕生日|お生まれ|生まれ"),
    ("postal", r"郵便番号|郵便|〒|ゆうびん"),
    ("account", r"口座番号|口座|普通預金|当座預金|普通|当座|貯蓄|店番|支店番号|支店|記号|通帳|振込先|引き落とし"),
    ("card", r"カード番号|クレジット|カード|有効期限|セキュリティコード|セキュリティー|暗証番号"),
    ("phone", r"電話番号|電話|携帯|連絡先|ケータイ|けいたい|でんわ|TEL|ファックス|FAX|番号の方|折り返し"),
    ("number", r"会員番号|お客様番号|お客さま番号|顧客番号|契約番号|証券番号|保険証券|証書番号|加入者番号|"
     r"利用者番号|受付番号|管理番号|会員ID|ID|ＩＤ|アイディー|アイディ|ユーザー|ログイン|番号|ナンバー|No"),
)
_CUE_RE = re.compile("|".join(f"(?P<{kind}>{words})" for kind, words in _CUES))
#: How far before a run its cue may stand (characters).
CUE_WINDOW = 24


def luhn_valid(digits: str) -> bool:
    """Whether a string of ASCII digits passes the Luhn checksum (card numbers)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def cued_kinds(text: str) -> list[tuple[str, int]]:
    """``(kind, end)`` of each cue word in ``text`` (kind: one of :data:`DIGIT_KINDS` or ``product``)."""
    return [(m.lastgroup or "number", m.end()) for m in _CUE_RE.finditer(text)]


def _classify(digits: str, raw: str) -> str | None:
    n = len(digits)
    if raw.startswith("+81") or (digits.startswith("0") and n in (10, 11)):
        return "phone"
    if 13 <= n <= 19 and luhn_valid(digits):
        return "card"
    return "number" if n >= 8 else None


def _units(raw: str) -> list[str]:
    return _UNIT_ITER.findall(raw)


def _trim(raw: str, units: list[str]) -> tuple[str, list[str]]:
    """Drop trailing separators and a trailing particle (に, ご, く) read as a digit."""
    # Counted first and cut once: cutting one particle at a time made a long run quadratic.
    keep = len(units)
    while keep and units[keep - 1] in PARTICLE_DIGITS:
        keep -= 1
    if keep == len(units):
        return raw.rstrip(" -ー、,.の・/()"), units
    end = 0
    for n, m in enumerate(_UNIT_ITER.finditer(raw), 1):
        if n > keep:
            break
        end = m.end()
    return raw[:end].rstrip(" -ー、,.の・/()"), units[:keep]


def digit_spans(
    text: str, context: frozenset[str] = frozenset(), *, shaped: bool = True, cued: bool = True
) -> list[tuple[str, int, int]]:
    """``(kind, start, end)`` of each personal number in one (width-folded) utterance.

    Args:
        text: The utterance, width-folded.
        context: Kinds the previous turns asked for or that the speaker's previous turn ended on
            (:data:`DIGIT_KINDS`); a short run with no cue of its own takes the latest of them.
        shaped: Report runs whose shape alone makes them personal (phone, card, >= 8 digits).
        cued: Report shorter runs that a cue or the context makes personal.

    Returns:
        Spans in text order; kinds are ``phone``, ``card``, ``account``, ``number``, ``postal``.

    """
    cues = cued_kinds(text)
    out: list[tuple[str, int, int]] = []
    for pattern in (_DIGIT_RUN, _ALNUM_RUN):
        for m in pattern.finditer(text):
            raw, units = _trim(m[0], _units(m[0]))
            if not units:
                continue
            start, end = m.start(), m.start() + len(raw)
            digits = "".join(_UNIT_TO_DIGIT.get(u, u if u.isdigit() else "") for u in units)
            letters = len(units) - len(digits)
            kana = all(u in DIGIT_WORDS or u in LETTER_NAMES for u in units)
            if pattern is _DIGIT_RUN:
                kind = _classify(digits, raw) if not kana or len(units) >= 9 else None
                if kind:
                    if shaped:
                        out.append((kind, start, end))
                    continue
            if not cued:
                continue
            cue = _cue_before(cues, start, context)
            if cue is None or cue in ("product", "birthdate") or _COUNTER.match(text, end):
                continue
            if pattern is _DIGIT_RUN and _glued(text, start, end):
                continue  # part of a letters-and-digits token (KJ-55X80L, 2024/05): not this run's kind
            if pattern is _ALNUM_RUN and (cue != "number" or letters == 0):
                continue  # letters: member and policy numbers only (AB123456)
            enough = len(digits) >= 3 or (letters and len(digits) >= 2 and len(units) >= 4)
            if kana and len(units) < 4:
                enough = False  # さん, に, ご alone are words
            if enough:
                out.append((cue, start, end))
    return out


def _glued(text: str, start: int, end: int) -> bool:
    """Whether a run is glued to letters or a date's slash (KJ-55X80L, 2024/05/03): a bigger token."""
    before, after = text[max(0, start - 2) : start], text[end : end + 2]
    letter = re.compile(r"[A-Za-z]")
    return bool(
        (before and letter.match(before[-1]))
        or (before[:1] and letter.match(before[:1]) and before[-1:] == "-")
        or (after and letter.match(after))
        or re.match(r"[/.][0-9]", after)
    )


def _cue_before(cues: list[tuple[str, int]], start: int, context: frozenset[str]) -> str | None:
    near = [kind for kind, end in cues if end <= start and start - end <= CUE_WINDOW]
    if near:
        return near[-1]
    if "product" in context:
        return None  # the last turns were about a product: its model and serial numbers are not personal
    for kind in ("postal", "card", "account", "phone", "number"):
        if kind in context:
            return kind
    return None


# ------------------------------------------------------------------------------ birthdates
_N = r"(?:[0-9]{1,4}|[〇零一二三四五六七八九十]{1,5})"
_ERA = r"(?:明治|大正|昭和|平成|令和|[MTSHR](?=\s*[0-9]))"
_DATE = re.compile(
    rf"(?:{_ERA}\s*)?(?:{_N}|元)\s*年(?:\s*の)?\s*{_N}\s*月(?:\s*の)?\s*{_N}\s*日"
    rf"|(?<![0-9])(?:{_ERA}\s*)?[0-9]{{2,4}}[/.\-][0-9]{{1,2}}[/.\-][0-9]{{1,2}}(?![0-9])"
    rf"|{_ERA}\s*(?:{_N}|元)\s*年(?:\s*{_N}\s*月)?"
    rf"|(?<![0-9])(?:19|20)[0-9]{{2}}\s*年(?:\s*{_N}\s*月)?"
    rf"|(?<![0-9〇一二三四五六七八九十]){_N}\s*月(?:\s*の)?\s*{_N}\s*日"
)
_BORN_AFTER = re.compile(r"\s*(?:の)?\s*(?:生まれ|生|うまれ|誕生)")
_BIRTH_CUE = re.compile(r"生年月日|誕生日|お生まれ|生まれ|うまれ")
_OLD_ERA = re.compile(r"^(?:明治|大正|昭和|[MTS])")


def birthdate_spans(text: str, context: frozenset[str] = frozenset()) -> list[tuple[str, int, int]]:
    """``("birthdate", start, end)`` of each date of birth in one (width-folded) utterance.

    A date is one when 生まれ follows it, a birth cue (生年月日, 誕生日) stands before it in the
    utterance, the previous turns asked for it (``"birthdate" in context``), or it is a full 昭和,
    大正 or 明治 date (no delivery or contract date is that old).
    """
    out = []
    cue_ends = [m.end() for m in _BIRTH_CUE.finditer(text)]
    for m in _DATE.finditer(text):
        full = "月" in m[0] and ("日" in m[0] or re.search(r"[/.\-]", m[0]) is not None)
        if (
            _BORN_AFTER.match(text, m.end())
            or any(end <= m.start() for end in cue_ends)
            or "birthdate" in context
            or (full and _OLD_ERA.match(m[0]))
        ):
            out.append(("birthdate", m.start(), m.end()))
    return out
