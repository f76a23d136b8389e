"""Japanese function words that tag rules and sentiment scoring read the same way.

Matched on UniDic lemmas: ません is ます + ず, なかった is ない + た, so one set covers the forms.
"""

from __future__ import annotations

#: Lemmas that negate the word before them: 〜ない, 〜ません (ます + ず), 〜なかった, 〜ず, 〜ぬ,
#: the colloquial ん (分からん), and Kansai へん/ひん (使えへん, 来ひん).
NEGATING_LEMMAS: frozenset[str] = frozenset({"ない", "無い", "ず", "ぬ", "ん", "へん", "ひん"})
