"""Signing in to the dashboard with the API's users: an API token (``suanli init`` /
``suanli user token``; the demo prints its own) is exchanged for an HttpOnly session cookie.

- The cookie never holds the API token the user typed: signing in issues a separate session
  token (an API token labelled :data:`SESSION_LABEL`, expiring after a day) and the cookie
  holds that; it is checked on every request with ``TenancyService.authenticate``.
- Signing out revokes the session token server-side, so a copied cookie stops working too.

- Staff (admin, operator, finance) see every page. A ``customer`` user sees only the contracts,
  billing and customer pages, scoped to its own customer by the services (``Principal.scope``):
  another customer's page answers 404, exactly as the API does.
- Not signed in: pages redirect to ``/login?next=...`` (htmx requests get ``HX-Redirect``).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from suanli.core.errors import SuanliError
from suanli.core.i18n import _
from suanli.services.container import Services
from suanli.services.tenancy import Principal, Role
from suanli.web.render import TEMPLATES

router = APIRouter(include_in_schema=False)
COOKIE = "suanli_session"
MAX_AGE = 12 * 3600
SESSION_LABEL = "dashboard session"


def _services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def principal_of(request: Request) -> Principal | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        return _services(request).money.tenancy.authenticate(token)
    except SuanliError:
        return None


def home_of(principal: Principal) -> str:
    if principal.role is Role.CUSTOMER and principal.customer_code:
        return f"/customers/{principal.customer_code}"
    return "/"


def _redirect(request: Request, target: str) -> HTTPException:
    headers = {"Location": target}
    if request.headers.get("HX-Request"):
        headers["HX-Redirect"] = target
    return HTTPException(status_code=303, headers=headers)


def require_user(request: Request) -> Principal:
    """Dependency: the signed-in principal (also on ``request.state.user``) or a redirect."""
    principal = principal_of(request)
    if principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise _redirect(request, f"/login?next={quote(target, safe='')}")
    request.state.user = principal
    return principal


def require_staff(request: Request) -> Principal:
    """Dependency for operator pages: customers are sent to their own page."""
    principal = require_user(request)
    if principal.role is Role.CUSTOMER:
        raise _redirect(request, home_of(principal))
    return principal


def _safe_next(value: str | None) -> str | None:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return None


def _login_page(request: Request, next_url: str, error: str | None, status: int) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(
        request,
        "login.html",
        {"title": _("Sign in"), "active": "", "user": None, "next": next_url, "error": error},
        status_code=status,
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    return _login_page(request, _safe_next(next) or "", None, 200)


@router.post("/login", response_model=None)
def login(
    request: Request,
    token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    tenancy = _services(request).money.tenancy
    try:
        principal = tenancy.authenticate(token.strip())
        session = tenancy.issue_token(principal.name, days=1, label=SESSION_LABEL)
    except SuanliError as exc:
        return _login_page(request, _safe_next(next) or "", exc.message, 401)
    response = RedirectResponse(_safe_next(next) or home_of(principal), status_code=303)
    response.set_cookie(COOKIE, session.secret, max_age=MAX_AGE, httponly=True, samesite="lax")
    return response


@router.post("/logout")
def logout(request: Request) -> RedirectResponse:
    """Sign out: the session token is revoked, not just forgotten by this browser."""
    secret = request.cookies.get(COOKIE)
    if secret:
        _services(request).money.tenancy.revoke_secret(secret)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response
