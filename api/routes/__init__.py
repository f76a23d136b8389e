"""The JSON API's routers, one module per resource."""

from __future__ import annotations

from typing import Any

from api.schemas import ErrorBody

#: Error responses every protected route may give (documented once, reused by every router).
REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No key, unknown or revoked key."},
    403: {"model": ErrorBody, "description": "The key's role may not use this route."},
    422: {"model": ErrorBody, "description": "A parameter is invalid; `error.field` names it."},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody, "description": "No such resource."}}
