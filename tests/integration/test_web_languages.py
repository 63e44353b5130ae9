"""The dashboard's language switch (issue 16), on SQLite and PostgreSQL: Accept-Language picks
the default, ``?lang=`` switches and is remembered in a cookie, and the JSON API answers with the
same error codes whatever the language (the pages of the demo center in both languages are
checked in a browser: tests/e2e/test_dashboard_languages_browser.py)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from suanli.api.app import create_app
from suanli.core.clock import SimClock
from suanli.settings import load_settings


def test_language_from_header_query_and_cookie(db_url: str, clock: SimClock) -> None:
    app = create_app(load_settings(database_url=db_url), clock=clock)
    with TestClient(app) as client:
        en = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
        assert '<html lang="en">' in en.text and "<h1>Sign in</h1>" in en.text
        assert "set-cookie" not in en.headers

        zh = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
        assert '<html lang="zh">' in zh.text and "<h1>登录</h1>" in zh.text
        assert "Sign in" not in zh.text.replace('hreflang="en">English', "")
        assert "<code>suanli init</code>" in zh.text  # commands stay commands

        switched = client.get("/login?lang=en", headers={"Accept-Language": "zh-CN"})
        assert "<h1>Sign in</h1>" in switched.text
        assert "lang=en" in switched.headers["set-cookie"]
        # the cookie now beats the browser's header
        again = client.get("/login", headers={"Accept-Language": "zh-CN"})
        assert "<h1>Sign in</h1>" in again.text
        back = client.get("/login?lang=zh")
        assert (
            "<h1>登录</h1>" in back.text and 'href="http://testserver/login?lang=en"' in back.text
        )


def test_api_error_codes_do_not_change_with_the_language(db_url: str, clock: SimClock) -> None:
    app = create_app(load_settings(database_url=db_url), clock=clock)
    tenancy = app.state.services.money.tenancy
    tenancy.create_user("olga", "operator")
    auth = {"Authorization": f"Bearer {tenancy.issue_token('olga').secret}"}
    requests = ("/api/v1/servers/NOPE", "/api/v1/servers?limit=x", "/api/v1/sites?x")
    with TestClient(app) as client:
        for path in requests:
            en, zh = (
                client.get(path, headers={**auth, "Accept-Language": lang}) for lang in ("en", "zh")
            )
            assert en.status_code == zh.status_code and en.json() == zh.json()
        codes = [client.get(p, headers=auth).json().get("code") for p in requests[:2]]
        anonymous = client.get(requests[0], headers={"Accept-Language": "zh-CN"}).json()
    assert codes == ["server.not_found", "request.invalid"]
    assert anonymous["code"] == "auth.missing_token"
