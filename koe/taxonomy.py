"""The effort/frustration taxonomy: the fixed tag ids and what kind of signal each one is.

This is the one definition. Rules (``textmining/rules/tags.yaml``), the effort index, reports, churn
features, the CSM brief and the Japanese labels all import it, so adding or moving a tag is one edit
here (plus its rule and its label).

Customer effort is split as in the effort literature: *do* effort is what the customer had to do
(call again, explain again, be transferred or held, wait, try another channel, come back because it
is still broken); *feel* effort is how the call felt (anger, having to ask for a supervisor).
``churn_intent`` is neither: it is a churn signal, scored by the churn model, not by the effort index.
"""

from __future__ import annotations

from typing import Literal

EffortKind = Literal["do", "feel", "churn"]

#: Every tag id with its kind, in the order reports and exports list them.
TAG_KINDS: dict[str, EffortKind] = {
    "repeat_contact": "do",
    "repeat_explanation": "do",
    "transfer": "do",
    "escalation_request": "feel",
    "hold": "do",
    "long_wait": "do",
    "churn_intent": "churn",
    "anger": "feel",
    "unresolved": "do",
    "channel_switch": "do",
}
#: The fixed tag ids. Rules, reports, churn features and labels rely on them.
TAG_IDS: tuple[str, ...] = tuple(TAG_KINDS)
#: Tags that mean the customer had to *do* extra work.
DO_TAGS: tuple[str, ...] = tuple(t for t, kind in TAG_KINDS.items() if kind == "do")
#: Tags that say how the call *felt*.
FEEL_TAGS: tuple[str, ...] = tuple(t for t, kind in TAG_KINDS.items() if kind == "feel")
#: Tags a rule file may define: ``hold`` is measured from the audio (and from the agent's hold
#: phrases by the built-in rule), never from a user's pattern alone.
RULE_TAGS: tuple[str, ...] = tuple(t for t in TAG_IDS if t != "hold")
