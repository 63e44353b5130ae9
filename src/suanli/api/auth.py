"""Authentication and idempotency for the leasing and billing API.

- :data:`PrincipalDep` resolves ``Authorization: Bearer <token>`` to a
  :class:`~suanli.services.tenancy.Principal` (401 ``auth.*`` otherwise); routers then check the
  role (403 ``auth.forbidden``) and pass the principal down so services scope every query to
  the caller's tenant (another tenant's objects answer 404).
- Role gates as dependencies: :data:`StaffReader` (admin, operator, finance: fleet and
  procurement reads), :data:`Operator` (admin, operator: fleet and procurement writes).
  A customer user is refused with 403 before any lookup, so a refusal reveals nothing; objects a
  customer may never see answer 404 through :func:`hide_from_customers`, exactly like absent ones.
- :func:`idempotent` runs a creating POST at most once per ``Idempotency-Key`` (per caller and
  path) and answers retries with the stored response.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from suanli.api.deps import ServicesDep, out
from suanli.core.errors import NotFoundError
from suanli.services.billing.idempotency import request_hash
from suanli.services.tenancy import Principal, Role

bearer = HTTPBearer(
    auto_error=False, description="API token from `suanli init` or `suanli user token`"
)


def get_principal(
    svc: ServicesDep, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    return svc.money.tenancy.authenticate(creds.credentials if creds else None)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def staff_reader(principal: PrincipalDep) -> Principal:
    principal.require(Role.OPERATOR, Role.FINANCE)
    return principal


def operator(principal: PrincipalDep) -> Principal:
    principal.require(Role.OPERATOR)
    return principal


def requires(*roles: Role) -> Any:
    """A route dependency checking the role before the body is validated, so a token without
    the role gets 403 ``auth.forbidden``, never a 422 about a body it may not send at all."""

    def check(principal: PrincipalDep) -> None:
        principal.require(*roles)

    return Depends(check)


StaffReader = Annotated[Principal, Depends(staff_reader)]
Operator = Annotated[Principal, Depends(operator)]
#: for ``APIRouter(dependencies=...)``: every route of the router needs a valid token
AUTHENTICATED = [Depends(get_principal)]


def hide_from_customers(principal: Principal, absent: NotFoundError) -> None:
    """Raise ``absent`` (the 404 of a missing object) when a customer user asks for it."""
    if principal.role is Role.CUSTOMER:
        raise absent


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Retries with the same key return the first response",
        max_length=200,
    ),
]


def idempotent(
    request: Request,
    svc: ServicesDep,
    principal: Principal,
    key: str | None,
    body: Any,
    run: Callable[[], Any],
    status_code: int = 201,
) -> JSONResponse:
    """Run ``run`` once per key; a retry with the same key and body gets the stored answer."""
    if not key:
        return JSONResponse(out(run()), status_code=status_code)
    scope = f"{principal.user_id}:{request.method}:{request.url.path}"
    stored = svc.money.idempotency.claim(scope, key, request_hash(body))
    if stored is not None:
        return JSONResponse(
            stored.body, status_code=stored.status_code, headers={"Idempotent-Replayed": "true"}
        )
    try:
        result = out(run())
    except BaseException:
        svc.money.idempotency.release(scope, key)
        raise
    svc.money.idempotency.complete(scope, key, status_code, result)
    return JSONResponse(result, status_code=status_code)
