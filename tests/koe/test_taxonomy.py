"""The taxonomy is the one definition: every place that scores or lists tags agrees with it."""

from __future__ import annotations

from insights.brief import FRUSTRATION_TAGS
from insights.churn import EFFORT_EVIDENCE_TAGS
from insights.labels import TAG_LABELS
from koe.taxonomy import DO_TAGS, FEEL_TAGS, RULE_TAGS, TAG_IDS, TAG_KINDS
from textmining.effort import DO_WEIGHTS, FEEL_WEIGHTS


def test_every_tag_has_exactly_one_kind() -> None:
    assert set(TAG_KINDS) == set(TAG_IDS)
    assert not set(DO_TAGS) & set(FEEL_TAGS)
    assert set(TAG_IDS) - set(DO_TAGS) - set(FEEL_TAGS) == {"churn_intent"}


def test_the_effort_index_scores_the_do_and_feel_tags_of_the_taxonomy() -> None:
    # hold is scored from its length (HOLD_*), not from a fixed weight
    assert set(DO_WEIGHTS) | {"hold"} == set(DO_TAGS)
    assert {k for k in FEEL_WEIGHTS if not k.startswith("trajectory_")} == set(FEEL_TAGS)


def test_lists_derived_from_the_taxonomy() -> None:
    assert set(EFFORT_EVIDENCE_TAGS) < set(DO_TAGS)
    assert set(TAG_IDS) - {"unresolved"} == FRUSTRATION_TAGS
    assert "hold" not in RULE_TAGS and len(RULE_TAGS) == len(TAG_IDS) - 1
    assert set(TAG_LABELS) >= set(TAG_IDS)
