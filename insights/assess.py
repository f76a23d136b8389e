"""One customer, start to end: summary, churn risk (default or trained) and the CSM brief."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from insights.brief import CustomerBrief, build_brief
from insights.churn import ChurnWeights, default_churn_risk
from insights.records import CallFacts, ChurnRisk, CustomerSummary
from insights.summary import summarise_customer
from insights.train import TrainedChurnModel, model_churn_risk


@dataclass(frozen=True, slots=True)
class CustomerAssessment:
    """A customer's summary, churn risk and brief, computed together."""

    summary: CustomerSummary
    risk: ChurnRisk
    brief: CustomerBrief


def assess_customer(
    customer_id: str,
    calls: Sequence[CallFacts],
    *,
    now: datetime,
    weights: ChurnWeights | None = None,
    model: TrainedChurnModel | None = None,
) -> CustomerAssessment:
    """Summarise a customer's calls, score their churn risk and write their brief.

    Args:
        customer_id: The customer.
        calls: Their processed calls.
        now: The moment the summary describes (timezone-aware).
        weights: Default-score configuration (used when ``model`` is ``None``).
        model: A trained churn model; when given, it scores instead of the default weights.

    """
    summary = summarise_customer(customer_id, calls, now=now)
    risk = (
        model_churn_risk(model, summary)
        if model is not None
        else default_churn_risk(summary, weights=weights)
    )
    return CustomerAssessment(summary, risk, build_brief(summary, risk))
