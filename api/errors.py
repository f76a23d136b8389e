"""The one error handler: koe's error tree, validation errors and HTTP errors as ``{"error": {...}}``.

Pages (``/ui/...``) get the same statuses, but a missing or expired sign-in redirects to the
sign-in form and other errors render a short Japanese error page. Refusals never carry data.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from koe.errors import (
    AuthError,
    ConfigError,
    ForbiddenError,
    InputError,
    KoeError,
    ModelError,
    NotFoundError,
    StorageError,
    TrainingError,
    TransientStorageError,
)

logger = logging.getLogger("koe.api")

#: Most specific class first: the first match decides the status and the code.
ERROR_STATUS: tuple[tuple[type[KoeError], int, str], ...] = (
    (ForbiddenError, 403, "forbidden"),
    (AuthError, 401, "unauthorized"),
    (NotFoundError, 404, "not_found"),
    (InputError, 422, "invalid_input"),
    (TrainingError, 422, "invalid_input"),
    (TransientStorageError, 503, "storage_unavailable"),
    (StorageError, 500, "storage_error"),
    (ConfigError, 503, "misconfigured"),
    (ModelError, 503, "model_unavailable"),
    (KoeError, 500, "internal_error"),
)

PAGE_MESSAGES = {401: "サインインが必要です", 403: "この役割では表示できません", 404: "見つかりません"}


def status_for(exc: KoeError) -> tuple[int, str]:
    """HTTP status and stable error code for a koe error."""
    for cls, status, code in ERROR_STATUS:
        if isinstance(exc, cls):
            return status, code
    return 500, "internal_error"


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    """The JSON error shape every refusal uses."""
    return {"error": {"code": code, "message": message, **extra}}


def _is_page(request: Request) -> bool:
    return request.url.path.startswith("/ui/") or request.url.path == "/ui"


def _page_error(request: Request, status: int, message: str) -> Response:
    if status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/ui/signin?next={target}", status_code=303)
    templates = request.app.state.templates
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "title": PAGE_MESSAGES.get(status, "エラー"), "message": message, "principal": None},
        status_code=status,
    )


def _respond(request: Request, status: int, code: str, message: str, **extra: Any) -> Response:
    if _is_page(request):
        return _page_error(request, status, message)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(error_body(code, message, **extra), status_code=status, headers=headers)


async def _koe_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, KoeError)
    status, code = status_for(exc)
    if status >= 500:
        logger.error("%s %s: %s", request.method, request.url.path, exc)
    return _respond(request, status, code, str(exc))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    field = ".".join(str(part) for part in first.get("loc", ()) if part not in ("query", "path", "body"))
    return _respond(request, 422, "invalid_parameter", f"{field or 'request'}: {first.get('msg')}", field=field)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = str(exc.detail) if exc.detail else "error"
    response = _respond(request, exc.status_code, f"http_{exc.status_code}", message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("%s %s failed", request.method, request.url.path)
    return _respond(request, 500, "internal_error", "internal error; the server log has the details")


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(KoeError, _koe_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
