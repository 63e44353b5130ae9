"""Dashboard sessions and security headers, on SQLite and PostgreSQL: the cookie holds a session
token of its own (never the API token typed in), signing out revokes it server-side, and pages
carry CSP, X-Frame-Options and nosniff."""

from __future__ import annotations

from fastapi.testclient import TestClient

from suanli.api.app import create_app
from suanli.core.clock import SimClock
from suanli.settings import load_settings
from suanli.web.auth import COOKIE, SESSION_LABEL


def test_session_cookie_is_not_the_api_token_and_sign_out_revokes_it(
    db_url: str, clock: SimClock
) -> None:
    app = create_app(load_settings(database_url=db_url), clock=clock)
    tenancy = app.state.services.money.tenancy
    tenancy.create_user("olga", "operator")
    api_token = tenancy.issue_token("olga").secret
    with TestClient(app) as client:
        r = client.post(
            "/login", data={"token": api_token, "next": "/fleet"}, follow_redirects=False
        )
        assert r.status_code == 303 and r.headers["location"] == "/fleet"
        session = client.cookies[COOKIE]
        assert session and session != api_token and api_token not in r.headers["set-cookie"]
        assert [t.label for t in tenancy.list_tokens("olga")] == [None, SESSION_LABEL]
        page = client.get("/fleet")
        assert page.status_code == 200
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["x-content-type-options"] == "nosniff"
        client.post("/logout", follow_redirects=False)
    with TestClient(app, cookies={COOKIE: session}) as stolen:  # a copy of the old cookie
        assert stolen.get("/fleet", follow_redirects=False).status_code == 303
    assert tenancy.authenticate(api_token).name == "olga"  # the API token itself still works


def test_api_answers_carry_nosniff_and_no_framing(db_url: str, clock: SimClock) -> None:
    app = create_app(load_settings(database_url=db_url), clock=clock)
    with TestClient(app) as client:
        r = client.get("/api/v1/catalog/gpus")
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert "content-security-policy" not in client.get("/docs").headers  # inline bootstrap
