"""/api/v1: customers (tenants), users, API tokens and ``/me``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, Field

from suanli.api.auth import PrincipalDep, requires
from suanli.api.deps import PagingDep, ServicesDep, out, page_out
from suanli.api.schemas import Items, answers
from suanli.services.common import Page
from suanli.services.tenancy import Customer, IssuedToken, Principal, Role, Token, User

router = APIRouter(tags=["customers and access"])


class CustomerIn(BaseModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "code": "acme",
                    "name": "Acme AI Ltd",
                    "email": "ap@acme.example",
                    "payment_terms_days": 30,
                }
            ]
        }
    }
    code: str = Field(max_length=64)
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=200)
    payment_terms_days: int = Field(default=30, ge=0, le=365)


class UserIn(BaseModel):
    model_config = {
        "json_schema_extra": {"examples": [{"name": "ann", "role": "customer", "customer": "acme"}]}
    }
    name: str = Field(max_length=128)
    role: Role
    customer: str | None = Field(default=None, max_length=64)


class TokenIn(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"days": 90, "label": "billing export"}]}}
    days: int = Field(default=90, ge=1, le=3650)
    label: str | None = Field(default=None, max_length=200)


@router.get("/me", responses=answers(200, 401, body=Principal))
def me(principal: PrincipalDep) -> Any:
    return out(principal)


@router.post(
    "/customers",
    responses=answers(201, 401, 403, 409, 413, 422, body=Customer),
    dependencies=[requires(Role.OPERATOR, Role.FINANCE)],
    status_code=status.HTTP_201_CREATED,
)
def create_customer(body: CustomerIn, svc: ServicesDep, principal: PrincipalDep) -> Any:
    principal.require(Role.OPERATOR, Role.FINANCE)
    return out(
        svc.money.tenancy.create_customer(body.code, body.name, body.email, body.payment_terms_days)
    )


@router.get("/customers", responses=answers(200, 401, 422, body=Page[Customer]))
def list_customers(
    svc: ServicesDep, principal: PrincipalDep, page: PagingDep, q: Annotated[str | None, Query(max_length=200)] = None,
) -> Any:  # fmt: skip
    return page_out(svc.money.tenancy.list_customers(principal, q, page.limit, page.offset))


@router.get("/customers/{code}", responses=answers(200, 401, 404, 422, body=Customer))
def get_customer(code: str, svc: ServicesDep, principal: PrincipalDep) -> Any:
    return out(svc.money.tenancy.get_customer(code, principal))


@router.post(
    "/users",
    responses=answers(201, 401, 403, 404, 409, 413, 422, body=User),
    status_code=status.HTTP_201_CREATED,
)
def create_user(body: UserIn, svc: ServicesDep, principal: PrincipalDep) -> Any:
    principal.require()
    return out(svc.money.tenancy.create_user(body.name, body.role, body.customer))


@router.get("/users", responses=answers(200, 401, 403, 422, body=Page[User]))
def list_users(svc: ServicesDep, principal: PrincipalDep, page: PagingDep) -> Any:
    principal.require()
    return page_out(svc.money.tenancy.list_users(page.limit, page.offset))


@router.post(
    "/users/{name}/tokens",
    responses=answers(201, 401, 403, 404, 413, 422, body=IssuedToken),
    status_code=status.HTTP_201_CREATED,
)
def issue_token(name: str, body: TokenIn, svc: ServicesDep, principal: PrincipalDep) -> Any:
    """Issue a token; ``secret`` is shown in this response only (only its hash is stored)."""
    principal.require()
    return out(svc.money.tenancy.issue_token(name, body.days, body.label))


@router.get("/tokens", responses=answers(200, 401, 403, 422, body=Items[Token]))
def list_tokens(
    svc: ServicesDep,
    principal: PrincipalDep,
    user: Annotated[str | None, Query(max_length=128)] = None,
) -> Any:
    principal.require()
    return {"items": out(svc.money.tenancy.list_tokens(user))}


@router.delete("/tokens/{token_id}", responses=answers(200, 401, 403, 404, 422, body=Token))
def revoke_token(
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1)], svc: ServicesDep, principal: PrincipalDep
) -> Any:
    principal.require()
    return out(svc.money.tenancy.revoke_token(token_id))
