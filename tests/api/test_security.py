"""Issue 16's service hardening: body limit, keys revoked everywhere, audio permission, call
attributes, sign-in Origin check and the ``__Host-`` cookie, the report cache shared through the database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import LimitBody, create_app
from api.auth import SECURE_SESSION_COOKIE, SESSION_COOKIE
from koe.settings import get_settings, load_settings
from models.db import transaction
from models.keys import list_keys, revoke_key
from models.markers import REPORTS, bump_marker
from tests.api.conftest import Service

# --- body limit ----------------------------------------------------------------------------------


def test_a_64_mb_unauthenticated_post_is_refused_with_413_before_authentication(service: Service) -> None:
    body = b"x" * (64 << 20)
    refused = service.client.post("/pipeline/runs", content=body, headers={"Content-Type": "application/json"})
    assert refused.status_code == 413  # not 401: refused before authentication looked at it
    assert refused.json()["error"]["code"] == "payload_too_large"
    assert "KOE_MAX_BODY_BYTES" in refused.json()["error"]["message"]
    # A small body still reaches authentication.
    assert service.client.post("/pipeline/runs", json={"flow": "process_calls"}).status_code == 401


def _drive(app: LimitBody, headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> tuple[int, int]:
    """Run one request through ``app``; returns (status, how many body chunks it read)."""
    read = 0
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        nonlocal read
        read += 1
        if read <= len(chunks):
            return {"type": "http.request", "body": chunks[read - 1], "more_body": read < len(chunks)}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/x", "headers": headers, "query_string": b""}
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    return int(sent[0]["status"]), read  # type: ignore[call-overload]


def test_the_limit_reads_nothing_of_a_declared_large_body_and_cuts_a_chunked_one_off() -> None:
    async def echo(scope, receive, send):  # type: ignore[no-untyped-def]
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    limit = LimitBody(echo, max_bytes=1024)
    chunk = b"y" * 512
    # Content-Length says 64 MB: answered without a single receive().
    assert _drive(limit, [(b"content-length", str(64 << 20).encode())], [chunk] * 4) == (413, 0)
    # Chunked (no length): cut off at the third 512-byte chunk, the rest is never read.
    assert _drive(limit, [], [chunk] * 1000) == (413, 3)
    # Under the limit: passed through.
    assert _drive(limit, [(b"content-length", b"1024")], [chunk, chunk]) == (200, 2)


# --- keys: list, revoke, seen by every worker at once --------------------------------------------


def test_a_revoked_key_is_refused_at_once_by_every_worker(service: Service) -> None:
    # Two apps over one database stand for two `koe serve --workers` processes; both have the key cached.
    other = TestClient(create_app(get_settings(), report_cache_s=0))
    headers = service.headers("manager")
    assert service.client.get("/calls", headers=headers).status_code == 200
    assert other.get("/calls", headers=headers).status_code == 200
    with transaction(service.url) as session:
        listed = {k.prefix: k for k in list_keys(session)}
        prefix = service.data.keys["manager"][:12]
        assert listed[prefix].role == "manager" and listed[prefix].revoked_at is None
        assert listed[prefix].last_used_at is not None
        assert revoke_key(session, prefix + "…") == 1  # pasted from `koe keys list`
    for client in (other, service.client):  # no wait: the cache is dropped through the database
        refused = client.get("/calls", headers=headers)
        assert refused.status_code == 401 and "revoked" in refused.text
    assert service.client.get("/calls", headers=service.headers("csm")).status_code == 200
    with transaction(service.url) as session:
        assert [k.prefix for k in list_keys(session, include_revoked=False)] == [
            service.data.keys["csm"][:12],
            service.data.keys["data"][:12],
        ]
        with pytest.raises(Exception, match="koe keys list"):
            revoke_key(session, prefix)  # already revoked: says how to find the prefixes


def test_forgetting_in_one_worker_clears_every_workers_report_cache(service: Service) -> None:
    # Each app caches reports for 30 s (the production default); the marker makes the other drop it.
    first = TestClient(create_app(get_settings()))
    second = TestClient(create_app(get_settings()))
    headers = service.headers("manager")
    before = second.get("/customers", headers=headers).json()["items"]
    assert any(c["customer_id"] == "C-1001" for c in before)
    with transaction(service.url) as session:
        session.execute(sa.text("delete from customer_summaries where customer_id = 'C-1001'"))
    # Still cached in the second worker: the deletion alone does not reach it ...
    assert any(c["customer_id"] == "C-1001" for c in second.get("/customers", headers=headers).json()["items"])
    with transaction(service.url) as session:
        bump_marker(session, REPORTS)  # ... what forget_customer does in its transaction does
    assert first.get("/calls", headers=headers).status_code == 200
    assert all(c["customer_id"] != "C-1001" for c in second.get("/customers", headers=headers).json()["items"])


# --- audio behind its own permission ---------------------------------------------------------------


def test_recordings_are_for_the_data_role_only_whatever_raw_text_says(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KOE_RAW_TEXT", "true")
    get_settings.cache_clear()
    client = TestClient(create_app(get_settings(), report_cache_s=0))
    for role in ("manager", "csm"):
        refused = client.get("/calls/call-001/audio", headers=service.headers(role))
        assert refused.status_code == 403 and "KOE_AUDIO_ROLES" in refused.text
        page = client.get("/calls/call-001", headers=service.headers(role))
        assert page.status_code == 200
        signed = TestClient(client.app)
        signed.post("/ui/signin", data={"key": service.data.keys[role], "next": "/ui/calls/call-001"})
        html = signed.get("/ui/calls/call-001").text
        assert "/calls/call-001/audio" not in html and "KOE_AUDIO_ROLES" in html
    played = client.get("/calls/call-001/audio", headers=service.headers("data"))
    assert played.status_code == 200 and played.content[:4] == b"RIFF"


def test_audio_roles_are_configurable(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOE_AUDIO_ROLES", "csm,data")
    get_settings.cache_clear()
    client = TestClient(create_app(get_settings(), report_cache_s=0))
    assert client.get("/calls/call-001/audio", headers=service.headers("csm")).status_code == 200
    assert client.get("/calls/call-001/audio", headers=service.headers("manager")).status_code == 403
    with pytest.raises(Exception, match="KOE_AUDIO_ROLES"):
        load_settings(audio_roles="boss")


# --- extra input columns -----------------------------------------------------------------------------


def test_only_allowlisted_attributes_reach_roles_other_than_data(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    attributes = '{"plan": "光プラン", "caller_name": "山田花子", "callback": "090-4321-8765"}'
    with transaction(service.url) as session:
        session.execute(sa.text("update calls set attributes = :a where call_id = 'call-001'"), {"a": attributes})
    for role in ("manager", "csm"):
        shown = service.client.get("/calls/call-001", headers=service.headers(role))
        assert shown.json()["attributes"] == {"plan": "光プラン"}
        assert "山田花子" not in shown.text and "090-4321-8765" not in shown.text
    full = service.client.get("/calls/call-001", headers=service.headers("data")).json()["attributes"]
    assert full == {"plan": "光プラン", "caller_name": "山田花子", "callback": "090-4321-8765"}
    monkeypatch.setenv("KOE_ATTRIBUTES_SHOWN", "callback, plan")
    get_settings.cache_clear()
    client = TestClient(create_app(get_settings(), report_cache_s=0))
    assert client.get("/calls/call-001", headers=service.headers("csm")).json()["attributes"] == {
        "plan": "光プラン",
        "callback": "090-4321-8765",
    }


# --- sign-in: Origin check, __Host- cookie behind HTTPS --------------------------------------------


def test_sign_in_and_sign_out_from_another_site_are_refused(service: Service) -> None:
    client = service.client
    key = service.data.keys["csm"]
    for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"}, {"Referer": "https://evil.example/form"}):
        refused = client.post("/ui/signin", data={"key": key, "next": "/ui/"}, headers=headers, follow_redirects=False)
        assert refused.status_code == 403, headers
        assert "set-cookie" not in refused.headers and "KOE_ALLOWED_ORIGINS" in refused.text
    same = client.post(
        "/ui/signin", data={"key": key, "next": "/ui/"}, headers={"Origin": "http://testserver"}, follow_redirects=False
    )
    assert same.status_code == 303 and SESSION_COOKIE in same.cookies
    # Sign-out from another site would sign the victim out: refused too, and the session lives on.
    assert client.post("/ui/signout", headers={"Origin": "https://evil.example"}, follow_redirects=False).status_code == 403
    assert client.get("/calls", follow_redirects=False).status_code == 200
    assert client.post("/ui/signout", headers={"Origin": "http://testserver"}, follow_redirects=False).status_code == 303


def test_behind_https_the_cookie_is_host_prefixed_and_secure(koe_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.api.seed import seed

    data = seed(koe_env, recordings=tmp_path / "incoming")
    app = create_app(get_settings(), report_cache_s=0)
    with TestClient(app, base_url="https://koe.example") as client:
        response = client.post("/ui/signin", data={"key": data.keys["csm"], "next": "/ui/"}, follow_redirects=False)
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"{SECURE_SESSION_COOKIE}=") and "Secure" in cookie and "Path=/" in cookie
        assert "Domain" not in cookie
        assert client.get("/calls", follow_redirects=False).status_code == 200
        # A plain-named cookie (as one planted over http would be) is not read behind HTTPS.
        token = response.cookies[SECURE_SESSION_COOKIE]
        client.cookies.clear()
        client.cookies.set(SESSION_COOKIE, token)
        assert client.get("/calls", follow_redirects=False).status_code == 401
    with TestClient(app) as plain:  # plain http (a local run): the plain cookie, not Secure
        cookie = plain.post("/ui/signin", data={"key": data.keys["csm"]}, follow_redirects=False).headers["set-cookie"]
        assert cookie.startswith(f"{SESSION_COOKIE}=") and "Secure" not in cookie
    monkeypatch.setenv("KOE_SECURE_COOKIES", "true")  # a proxy that terminates TLS without telling
    get_settings.cache_clear()
    with TestClient(create_app(get_settings(), report_cache_s=0)) as forced:
        cookie = forced.post("/ui/signin", data={"key": data.keys["csm"]}, follow_redirects=False).headers["set-cookie"]
        assert cookie.startswith(f"{SECURE_SESSION_COOKIE}=") and "Secure" in cookie
