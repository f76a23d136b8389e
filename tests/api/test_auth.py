"""The auth matrix: every route x {no key, bad key, each role}, and the page sign-in."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from api.auth import ROLE_PERMISSIONS, SESSION_COOKIE, Permission
from koe.settings import get_settings
from models.db import transaction
from models.keys import revoke_key
from models.tables import WebSession
from tests.api.conftest import Service

#: (method, path, permission needed); every route of the service except /health and /ui/signin.
ROUTES: list[tuple[str, str, Permission]] = [
    ("GET", "/calls", Permission.CALLS),
    ("GET", "/calls/call-001", Permission.CALLS),
    ("GET", "/calls/call-001/audio", Permission.AUDIO),
    ("GET", "/search?q=回線", Permission.CALLS),
    ("GET", "/customers", Permission.CUSTOMERS),
    ("GET", "/customers/C-1001", Permission.CUSTOMERS),
    ("GET", "/customers/C-1001/brief", Permission.CUSTOMERS),
    ("GET", "/reports/topics", Permission.REPORTS),
    ("GET", "/reports/agents", Permission.REPORTS),
    ("GET", "/pipeline/runs", Permission.RUNS_READ),
    ("GET", "/pipeline/runs/1", Permission.RUNS_READ),
    ("POST", "/pipeline/runs", Permission.RUNS_WRITE),
    ("GET", "/topics/edits", Permission.REPORTS),
    ("PUT", "/topics/0", Permission.TOPICS_WRITE),
    ("POST", "/topics/1/merge", Permission.TOPICS_WRITE),
]
PAGES: list[tuple[str, Permission]] = [
    ("/ui/topics", Permission.REPORTS),
    ("/ui/customers", Permission.CUSTOMERS),
    ("/ui/customers/C-1001", Permission.CUSTOMERS),
    ("/ui/calls/call-001", Permission.CALLS),
]
# An invalid body: allowed callers get 422, so no flow is started and no topic edited by the matrix.
POST_BODY = {"flow": "process_calls", "parameters": {}}


def _call(service: Service, method: str, path: str, headers: dict[str, str]) -> object:
    if method in ("POST", "PUT"):
        return service.client.request(method, path, json=POST_BODY, headers=headers)
    return service.client.get(path, headers=headers)


def test_every_api_route_is_in_the_matrix(service: Service) -> None:
    paths = set(service.client.get("/openapi.json").json()["paths"])
    api_paths = paths - {"/health"}
    listed = {"/calls", "/calls/{call_id}", "/calls/{call_id}/audio", "/search", "/customers", "/customers/{customer_id}",
              "/customers/{customer_id}/brief", "/reports/topics", "/reports/agents", "/pipeline/runs", "/pipeline/runs/{run_id}",
              "/topics/edits", "/topics/{topic_id}", "/topics/{topic_id}/merge"}
    assert api_paths == listed


@pytest.mark.parametrize(("method", "path", "permission"), ROUTES)
def test_refusals_are_401_or_403_and_carry_no_data(service: Service, method: str, path: str, permission: Permission) -> None:
    for headers in ({}, {"Authorization": "Bearer koe_not-a-real-key"}, {"Authorization": "Basic abc"}):
        response = _call(service, method, path, headers)
        assert response.status_code == 401, (path, headers)  # type: ignore[attr-defined]
        body = response.json()  # type: ignore[attr-defined]
        assert set(body) == {"error"} and body["error"]["code"] == "unauthorized"
        assert "C-1001" not in response.text and "回線" not in response.text  # type: ignore[attr-defined]
    for role, permissions in ROLE_PERMISSIONS.items():
        response = _call(service, method, path, service.headers(role))
        status = response.status_code  # type: ignore[attr-defined]
        if permission in permissions:
            assert status not in (401, 403), (role, path, status)
            assert status < 500 or status == 503, (role, path, response.text)  # type: ignore[attr-defined]
        else:
            assert status == 403, (role, path)
            body = response.json()  # type: ignore[attr-defined]
            assert set(body) == {"error"} and body["error"]["code"] == "forbidden"
            assert "C-1001" not in response.text  # type: ignore[attr-defined]


def test_role_matrix_is_what_the_issue_says() -> None:
    assert Permission.REPORTS in ROLE_PERMISSIONS["manager"] and Permission.REPORTS not in ROLE_PERMISSIONS["csm"]
    assert {Permission.CALLS, Permission.CUSTOMERS} <= ROLE_PERMISSIONS["csm"]
    assert Permission.RUNS_WRITE in ROLE_PERMISSIONS["data"]
    assert not any(Permission.RUNS_WRITE in ROLE_PERMISSIONS[r] or Permission.RAW_TEXT in ROLE_PERMISSIONS[r] for r in ("manager", "csm"))


@pytest.mark.parametrize(("path", "permission"), PAGES)
def test_pages_redirect_to_sign_in_and_refuse_wrong_roles(service: Service, path: str, permission: Permission) -> None:
    client = service.client
    client.cookies.clear()
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/ui/signin?next=")
    for role, permissions in ROLE_PERMISSIONS.items():
        client.cookies.clear()
        signed_in = client.post("/ui/signin", data={"key": service.data.keys[role], "next": path}, follow_redirects=False)
        assert signed_in.status_code == 303
        response = client.get(path, follow_redirects=False)
        if permission in permissions:
            assert response.status_code in (200, 503), (role, path)
        else:
            assert response.status_code == 403, (role, path)
            assert "C-1001" not in response.text or path.endswith("C-1001")


def test_session_cookie_is_opaque_http_only_strict_and_ends_on_sign_out(service: Service) -> None:
    client = service.client
    response = client.post("/ui/signin", data={"key": service.data.keys["csm"], "next": "//evil.example/"}, follow_redirects=False)
    assert response.headers["location"] == "/ui/"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert service.data.keys["csm"] not in cookie
    assert client.get("/calls", follow_redirects=False).status_code == 200  # the cookie works for the audio player
    client.post("/ui/signout", follow_redirects=False)
    client.cookies.clear()
    assert client.get("/calls").status_code == 401


def test_wrong_key_on_the_sign_in_form_is_refused(service: Service) -> None:
    response = service.client.post("/ui/signin", data={"key": "koe_wrong", "next": "/ui/"}, follow_redirects=False)
    assert response.status_code == 401
    assert "set-cookie" not in response.headers


def test_page_session_is_shared_by_server_workers_and_sign_out_ends_it_everywhere(service: Service) -> None:
    # Two apps over one database stand for two `koe serve --workers` processes.
    other = TestClient(create_app(get_settings(), report_cache_s=0))
    response = service.client.post("/ui/signin", data={"key": service.data.keys["csm"], "next": "/ui/"}, follow_redirects=False)
    token = response.cookies[SESSION_COOKIE]
    with transaction(service.url) as session:
        stored = session.scalars(select(WebSession.token_hash)).all()
    assert token not in stored and len(stored) == 1  # only a hash is kept
    other.cookies.set(SESSION_COOKIE, token)
    assert other.get("/calls", follow_redirects=False).status_code == 200
    assert other.post("/ui/signout", follow_redirects=False).status_code in (303, 302)
    # The first worker's client still holds the cookie: the server itself must refuse it now.
    service.client.cookies.set(SESSION_COOKIE, token)
    assert service.client.get("/calls", follow_redirects=False).status_code == 401


def test_revoking_a_key_ends_its_page_sessions(service: Service) -> None:
    response = service.client.post("/ui/signin", data={"key": service.data.keys["manager"], "next": "/ui/"}, follow_redirects=False)
    assert service.client.get("/calls", follow_redirects=False).status_code == 200
    with transaction(service.url) as session:
        assert revoke_key(session, service.data.keys["manager"][:12]) == 1
    refused = service.client.get("/calls", follow_redirects=False)
    assert refused.status_code == 401 and "revoked" in refused.text
    assert response.cookies[SESSION_COOKIE] not in refused.text
