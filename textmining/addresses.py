"""Postal addresses in call transcripts, with or without the prefecture, in digits or kanji numerals.

An address is anchored on its block number (九丁目二十五番二十号, 3-12-5, 12番地の3) and grows left
over the place name before it (世田谷区桜丘) and right over the building and room (サンハイツ305号室).
A block number alone is common in other talk (「1丁目のお店」, 「一番安い」), so it counts as an
address only with a place name ending in 都道府県/市区町村/郡 before it, with two or more block parts
(丁目 and 番, or 3-12-5), or where the call is about an address (住所 said or asked just before). In
that context a municipality alone (世田谷区桜丘) is redacted too: callers often give the address
over two turns.
"""

from __future__ import annotations

import re

__all__ = ["address_spans"]

PREFECTURES = (
    "北海道|青森県|岩手県|宮城県|秋田県|山形県|福島県|茨城県|栃木県|群馬県|埼玉県|千葉県|東京都|神奈川県|"
    "新潟県|富山県|石川県|福井県|山梨県|長野県|岐阜県|静岡県|愛知県|三重県|滋賀県|京都府|大阪府|兵庫県|"
    "奈良県|和歌山県|鳥取県|島根県|岡山県|広島県|山口県|徳島県|香川県|愛媛県|高知県|福岡県|佐賀県|長崎県|"
    "熊本県|大分県|宮崎県|鹿児島県|沖縄県"
)
_NUM = r"[0-9〇零一二三四五六七八九十百千]{1,6}"
_PART_SEP = r"(?:丁目|番地の?|番の?|号の?|条|の|-|ー|‐|−)"
# A block number: 4-2-8, 九丁目二十五番二十号, 12番地の3, 北1条西2丁目1. Bounded: at most 4 parts.
_BLOCK = re.compile(
    rf"(?<![0-9])(?:[東西南北]\s?)?{_NUM}\s?(?:{_PART_SEP}\s?(?:[東西南北]\s?)?{_NUM}\s?){{0,3}}(?:丁目|番地|番|号)?"
)
_STRONG_PARTS = re.compile(r"丁目|番地|番|号|条")
_SUFFIX = re.compile(rf"(?:{PREFECTURES})|[一-龥々ぁ-んァ-ヶー]{{1,8}}?[市区町村郡]")
# Building and room after the block: サンハイツ305号室, グランメゾン2階, 101号室, 棟.
_BUILDING = re.compile(
    r"\s?(?:[ァ-ヶーA-Za-z一-龥々]{1,16}?\s?)?[0-9〇一二三四五六七八九十百]{1,5}\s?(?:号室|号棟|階|F|号)"
    r"|\s?[ァ-ヶーA-Za-z一-龥々]{1,16}?(?:マンション|ハイツ|コーポ|アパート|荘|ビル|レジデンス|ハウス|タワー|"
    r"ヒルズ|コート|パレス|メゾン|団地|寮)(?:\s?[0-9〇一二三四五六七八九十百]{1,5})?"
)
# After a block: a shop, station, floor guide or count, not somebody's home.
_NOT_HOME_AFTER = re.compile(r"\s*(?:店|駅|支店|営業所|店舗|の店|のお店|交差点|付近|あたり|辺り|周辺|出口|目|線|台|個|回|人|円)")
_PLACE_CHAR = re.compile(r"[一-龥々ァ-ヶーヶケ]")
# Words before an address that are not part of it (住所東京都… -> 東京都…).
_LEAD_WORDS = ("現住所", "ご住所", "住所", "自宅", "実家", "送り先", "お届け先", "配送先", "住まい")
_ADDRESS_CUE = re.compile(r"住所|お住まい|住んで|お届け先|送り先|配送先|届け先|自宅|実家|引っ越し|転居")
_MUNICIPALITY = re.compile(
    rf"(?:{PREFECTURES})\s?(?:[一-龥々ぁ-んァ-ヶー]{{1,8}}?[市区町村郡](?:[一-龥々ァ-ヶー]{{1,6}}?[区町村])?)?"
    rf"|[一-龥々ァ-ヶー]{{1,6}}?[市区郡](?:[一-龥々ァ-ヶー]{{1,6}}?[区町村])?(?:[一-龥々ァ-ヶー]{{1,6}})?"
)


def _walk_left(text: str, start: int) -> int:
    """The start of the place name ending at ``start`` (kanji/katakana, at most 16 characters)."""
    i = start
    while i > 0 and start - i < 16 and (_PLACE_CHAR.match(text[i - 1]) or (
        text[i - 1] in "がのつケヶ" and i > 1 and _PLACE_CHAR.match(text[i - 2]) and _PLACE_CHAR.match(text[i:i + 1] or " ")
    )):
        i -= 1
    place = text[i:start]
    for word in _LEAD_WORDS:
        if place.startswith(word) and len(place) > len(word):
            return i + len(word)
    return i


def address_spans(text: str, context: bool = False) -> list[tuple[str, int, int]]:
    """``("address", start, end)`` of each postal address in one (width-folded) utterance.

    Args:
        text: The utterance, width-folded.
        context: The call is about an address here (住所 asked in the last turns, or the
            speaker's previous turn ended on an address).

    Returns:
        Address spans in text order.

    """
    context = context or _ADDRESS_CUE.search(text) is not None
    out = []
    for m in _BLOCK.finditer(text):
        block = m[0].rstrip()
        start, end = m.start(), m.start() + len(block)
        parts = len(_STRONG_PARTS.findall(block)) + len(re.findall(r"[\-ー‐−]", block))
        left = _walk_left(text, start)
        place = text[left:start]
        suffixed = _SUFFIX.search(place) is not None
        if _NOT_HOME_AFTER.match(text, end) or not re.search(r"[0-9〇一二三四五六七八九]", block):
            continue
        if block.isdigit() and not (context and place):
            continue  # a bare number: an address only after a place name where the call is about one
        strong = parts >= 2 or (parts >= 1 and (suffixed or context) and place) or (context and place and suffixed)
        if not strong and not (context and parts >= 1 and len(block) >= 3):
            continue
        b = _BUILDING.match(text, end)
        if b is not None and not _NOT_HOME_AFTER.match(text, b.end()):
            end = b.end()
        out.append(("address", left, end))
    if context:
        out += [("address", m.start(), m.end()) for m in _MUNICIPALITY.finditer(text)]
    return out
