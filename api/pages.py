"""Server-rendered pages for people (Japanese UI): topic report, customers, customer, call.

The pages read the same functions as the JSON API (one source of truth) and draw charts as inline
SVG (``api/charts.py``). Sign-in takes an API key once and keeps an opaque session token in an
HTTP-only, ``SameSite=Strict`` cookie, named ``__Host-koe_session`` and ``Secure`` behind HTTPS
(``KOE_SECURE_COOKIES``, default: from the request's scheme). Sign-in and sign-out check the
``Origin`` header (``Referer`` when a browser sends no Origin): a form posted from another site is
refused, so nobody can sign a victim into the attacker's account (login CSRF) or out of their own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from api import charts
from api.auth import SESSION_TTL_S, Permission, Principal, cookie_is_secure, session_cookie_name
from api.deps import DB, State, get_principal, ranking_key, raw_text_allowed, require, shown_attributes
from api.presenters import customer_brief, customer_detail, list_customers
from insights.labels import LEVEL_LABELS, TRAJECTORY_LABELS, factor_label, tag_label
from koe.errors import AuthError, ForbiddenError
from models.call_detail import call_detail
from models.call_list import list_calls
from models.topic_report import topic_report

router = APIRouter(prefix="/ui", include_in_schema=False, default_response_class=HTMLResponse)

SPEAKER_LABELS = {"agent": "オペレーター", "customer": "お客様", "unknown": "話者不明"}
GRANULARITY_LABELS = {"day": "日", "week": "週", "month": "月"}


def configure_templates(templates: Jinja2Templates) -> None:
    """Register the filters and globals the templates use."""
    env = templates.env
    env.filters["mmss"] = charts.mmss
    env.filters["tag_label"] = tag_label
    env.filters["pct"] = lambda v: "-" if v is None else f"{float(v) * 100:.0f}%"
    env.filters["num"] = lambda v, d=2: "-" if v is None else f"{float(v):.{d}f}"
    env.filters["date"] = lambda v: (v or "")[:10] if isinstance(v, str) else "-"
    env.filters["datetime"] = lambda v: (v or "").replace("T", " ")[:16] if isinstance(v, str) else "-"
    env.filters["factor_label"] = factor_label
    env.globals["LEVEL_LABELS"] = LEVEL_LABELS
    env.globals["TRAJECTORY_LABELS"] = TRAJECTORY_LABELS
    env.globals["SPEAKER_LABELS"] = SPEAKER_LABELS
    env.globals["LANE_NAMES"] = charts.LANE_NAMES
    env.globals["quote"] = quote


def _render(request: Request, name: str, principal: Principal | None, **context: Any) -> Response:
    templates: Jinja2Templates = request.app.state.templates
    can = {p.name.lower(): (principal.can(p) if principal else False) for p in Permission}
    return templates.TemplateResponse(request, name, {"principal": principal, "can": can, **context})


def _safe_next(target: str | None) -> str:
    # Only same-site paths under /ui: never an absolute or protocol-relative URL (open redirect).
    if target and target.startswith("/ui/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/ui/"


@router.get("", response_class=RedirectResponse)
@router.get("/", response_class=RedirectResponse)
def home(request: Request, principal: Annotated[Principal, Depends(get_principal)]) -> RedirectResponse:
    """Managers land on the topic report, CSMs on the customer ranking."""
    target = "/ui/topics" if principal.can(Permission.REPORTS) else "/ui/customers"
    return RedirectResponse(target, status_code=303)


def check_origin(request: Request, allowed: tuple[str, ...] = ()) -> None:
    """Refuse a form post that a browser sent from another site (login CSRF).

    Browsers send ``Origin`` with every POST; where one sends none, ``Referer`` is checked instead.
    A request with neither comes from a program, not from a page on another site, and passes.

    Args:
        request: The sign-in or sign-out request.
        allowed: Further origins (``KOE_ALLOWED_ORIGINS``), for a proxy that rewrites ``Host``.

    Raises:
        ForbiddenError: when the request came from another origin.

    """
    own = f"{request.url.scheme}://{request.url.netloc}".lower()
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        if referer is None:
            return
        parts = urlsplit(referer)
        origin = f"{parts.scheme}://{parts.netloc}"
    origin = origin.strip().rstrip("/").lower()
    if origin != own and origin not in allowed:
        raise ForbiddenError(
            f"sign-in form posted from {origin[:100]!r}, not from {own}; sign in on koe's own page, or add the "
            "public address to KOE_ALLOWED_ORIGINS when a proxy serves koe under another name"
        )


@router.get("/signin")
def signin_form(request: Request, next: str | None = None) -> Response:
    """The sign-in form."""
    return _render(request, "signin.html", None, next=_safe_next(next), error=None)


@router.post("/signin")
def signin(
    request: Request,
    state: State,
    key: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form(max_length=500)] = "/ui/",
) -> Response:
    """Check the key once and start a page session (the cookie holds a token, not the key)."""
    check_origin(request, state.settings.allowed_origins)
    try:
        token = state.auth.open_session(key.strip())
    except AuthError:
        response = _render(request, "signin.html", None, next=_safe_next(next), error="キーが正しくありません。")
        response.status_code = 401
        return response
    response = RedirectResponse(_safe_next(next), status_code=303)
    secure = cookie_is_secure(request, state.settings.secure_cookies)
    # __Host- cookies must be Secure, Path=/ and carry no Domain; browsers refuse them otherwise.
    response.set_cookie(
        session_cookie_name(secure),
        token,
        max_age=SESSION_TTL_S,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
    )
    return response


@router.post("/signout")
def signout(request: Request, state: State) -> Response:
    """End the page session."""
    check_origin(request, state.settings.allowed_origins)
    secure = cookie_is_secure(request, state.settings.secure_cookies)
    name = session_cookie_name(secure)
    token = request.cookies.get(name)
    if token:
        state.auth.close_session(token)
    response = RedirectResponse("/ui/signin", status_code=303)
    response.delete_cookie(name, path="/", httponly=True, samesite="strict", secure=secure)
    return response


@router.get("/topics")
def topics_page(
    request: Request,
    db: DB,
    state: State,
    principal: Annotated[Principal, Depends(require(Permission.REPORTS))],
    since: datetime | None = None,
    until: datetime | None = None,
    granularity: Literal["day", "week", "month"] = "week",
) -> Response:
    """Topic report: volume over time, share, sentiment, effort, top tags, quotes."""
    report = state.cache.get(
        ("topics", since, until, granularity),
        lambda: db.call(lambda s: topic_report(s, since=since, until=until, granularity=granularity)),
    )
    chart = charts.volume_chart(report["periods"], report["topics"])
    return _render(
        request,
        "topics.html",
        principal,
        report=report,
        chart=chart,
        granularity=granularity,
        granularities=GRANULARITY_LABELS,
        since=since.date().isoformat() if since else "",
        until=until.date().isoformat() if until else "",
    )


@router.get("/customers")
def customers_page(
    request: Request,
    db: DB,
    state: State,
    principal: Annotated[Principal, Depends(require(Permission.CUSTOMERS))],
    level: Literal["low", "medium", "high"] | None = None,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> Response:
    """Customers ranked by churn risk, with level and top reason."""
    items, next_cursor = state.cache.get(
        ranking_key("churn_risk", level, 50, cursor),
        lambda: db.call(
            lambda s: list_customers(s, order="churn_risk", level=level, limit=50, cursor=cursor)
        ),
    )
    return _render(request, "customers.html", principal, items=items, next_cursor=next_cursor, level=level)


@router.get("/customers/{customer_id}")
def customer_page(
    request: Request,
    customer_id: str,
    db: DB,
    principal: Annotated[Principal, Depends(require(Permission.CUSTOMERS))],
) -> Response:
    """A customer: the CSM brief, the timeline of calls, open issues and evidence."""

    def read(session: Session) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
        calls, _ = list_calls(session, customer_id=customer_id, limit=100)
        return customer_detail(session, customer_id), customer_brief(session, customer_id), calls

    detail, brief, calls = db.call(read)
    timeline = charts.customer_timeline(calls)
    return _render(request, "customer.html", principal, detail=detail, brief=brief, calls=calls, timeline=timeline)


@router.get("/calls/{call_id}")
def call_page(
    request: Request,
    call_id: str,
    db: DB,
    state: State,
    principal: Annotated[Principal, Depends(require(Permission.CALLS))],
) -> Response:
    """A call as a two-sided chat with tags in place, the timeline bar and the recording."""
    raw_text = raw_text_allowed(principal, state)
    shown = shown_attributes(principal, state)
    detail = db.call(lambda s: call_detail(s, call_id, raw_text=raw_text, attributes_shown=shown))
    tags_by_utterance: dict[int, list[dict[str, Any]]] = {}
    for tag in detail["tags"]:
        tags_by_utterance.setdefault(tag["utterance_index"], []).append(tag)
    return _render(
        request,
        "call.html",
        principal,
        call=detail,
        tags_by_utterance=tags_by_utterance,
        timeline=charts.call_timeline(detail),
    )
