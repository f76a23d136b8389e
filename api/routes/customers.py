"""Customers: ranked by churn risk or last contact, their summaries and the CSM brief."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query

from api.auth import Permission, Principal
from api.deps import DB, State, ranking_key, require
from api.presenters import customer_brief, customer_detail, list_customers
from api.routes import NOT_FOUND, REFUSALS
from api.schemas import CustomerBrief, CustomerDetail, CustomerPage

router = APIRouter(prefix="/customers", tags=["customers"], responses=REFUSALS)
CustomerReader = Annotated[Principal, Depends(require(Permission.CUSTOMERS))]
CustomerId = Annotated[str, Path(max_length=128, examples=["C-1001"])]


@router.get("", response_model=CustomerPage, summary="Customers ranked by churn risk or last contact")
async def get_customers(
    db: DB,
    state: State,
    _: CustomerReader,
    order: Literal["churn_risk", "last_contact"] = "churn_risk",
    level: Literal["low", "medium", "high"] | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> CustomerPage:
    """Customers with their churn level and top reason; pass ``next_cursor`` back as ``cursor``.

    Pages are cached like the reports (``api.cache``): churn scores change only when the pipeline
    runs, and a run started here, or a customer forgotten here, clears the cache.
    """
    items, next_cursor = await state.cache.aget(
        ranking_key(order, level, limit, cursor),
        lambda: db.call(
            lambda s: list_customers(s, order=order, level=level, limit=limit, cursor=cursor)
        ),
    )
    return CustomerPage.model_validate({"items": items, "next_cursor": next_cursor})


@router.get("/{customer_id}", response_model=CustomerDetail, responses=NOT_FOUND, summary="A customer's VOC summary")
async def get_customer(customer_id: CustomerId, db: DB, _: CustomerReader) -> CustomerDetail:
    """Churn risk with reasons and evidence, effort, tags, repeat contacts, topics, open issues."""
    return CustomerDetail.model_validate(await db.run(lambda s: customer_detail(s, customer_id)))


@router.get("/{customer_id}/brief", response_model=CustomerBrief, responses=NOT_FOUND, summary="The CSM brief")
async def get_customer_brief(customer_id: CustomerId, db: DB, _: CustomerReader) -> CustomerBrief:
    """What to know before calling: risk and why, open issues, recent effort with quotes, last call."""
    return CustomerBrief.model_validate(await db.run(lambda s: customer_brief(s, customer_id)))
