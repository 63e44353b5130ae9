"""Tenants and access: customers, users with a role, API tokens, and tenant scoping.

Single writer of ``customers``, ``users`` and ``api_tokens``.

- A token's secret (``sl_`` + 43 URL-safe characters) is returned once by :meth:`issue_token`;
  only its SHA-256 digest is stored. Tokens expire (``expires_at``) and can be revoked.
- :class:`Principal` is who is calling. Staff roles: ``admin`` (everything), ``operator``
  (contracts, servers, usage), ``finance`` (invoices, payments, reports). A ``customer`` user
  sees only its own customer's data: :meth:`Principal.scope` turns any request for another
  customer into ``customer.not_found`` (HTTP 404), so other tenants cannot even be probed.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from suanli.core.clock import Clock
from suanli.core.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
    ValidationError,
)
from suanli.services.common import Page, check_paging, optional_text, require_text
from suanli.store.db import SessionFactory, transaction
from suanli.store.models import ApiTokenRow, CustomerRow, UserRow


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    FINANCE = "finance"
    CUSTOMER = "customer"


STAFF = frozenset({Role.ADMIN, Role.OPERATOR, Role.FINANCE})


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    name: str
    role: Role
    customer_id: int | None = None
    customer_code: str | None = None

    def require(self, *roles: Role) -> None:
        """Admins may do anything; others need one of ``roles``."""
        if self.role is Role.ADMIN or self.role in roles:
            return
        raise ForbiddenError(
            "auth.forbidden",
            f"role {self.role.value} may not do this",
            {"role": f"one of {sorted(r.value for r in {Role.ADMIN, *roles})}"},
        )

    def scope(self, customer: str | None) -> str | None:
        """The customer code a query is limited to (``None``: all, for staff)."""
        if self.role is not Role.CUSTOMER:
            return customer
        if customer is not None and customer != self.customer_code:
            raise NotFoundError(
                "customer.not_found", f"no customer {customer!r}", {"customer": customer}
            )
        return self.customer_code

    def sees(self, customer_id: int) -> bool:
        return self.role is not Role.CUSTOMER or self.customer_id == customer_id


SYSTEM = Principal(user_id=0, name="system", role=Role.ADMIN)


@dataclass(frozen=True, slots=True)
class Customer:
    id: int
    code: str
    name: str
    email: str | None
    payment_terms_days: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    role: Role
    customer: str | None
    disabled: bool


@dataclass(frozen=True, slots=True)
class Token:
    id: int
    user: str
    prefix: str
    label: str | None
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: Token
    secret: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def customer_from_row(row: CustomerRow) -> Customer:
    return Customer(row.id, row.code, row.name, row.email, row.payment_terms_days, row.created_at)


def get_customer_row(s: Session, code: str, principal: Principal = SYSTEM) -> CustomerRow:
    """The customer ``code``, or ``customer.not_found`` (also when another tenant asks)."""
    row = s.scalars(select(CustomerRow).where(CustomerRow.code == code)).one_or_none()
    if row is None or not principal.sees(row.id):
        raise NotFoundError("customer.not_found", f"no customer {code!r}", {"customer": code})
    return row


def _user(row: UserRow) -> User:
    return User(
        row.id, row.name, Role(row.role), row.customer.code if row.customer else None, row.disabled
    )


def _token(row: ApiTokenRow) -> Token:
    return Token(
        row.id, row.user.name, row.prefix, row.label, row.created_at, row.expires_at, row.revoked_at
    )


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise ValidationError(
            "user.invalid_role", f"unknown role {value!r}", {"role": [r.value for r in Role]}
        ) from None


class TenancyService:
    """Customers, users and tokens; each public method is one transaction."""

    def __init__(self, sessions: SessionFactory, clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    # customers

    def create_customer(
        self, code: str, name: str, email: str | None = None, payment_terms_days: int = 30
    ) -> Customer:
        code = require_text(code, "code", 64)
        if not 0 <= payment_terms_days <= 365:
            raise ValidationError(
                "customer.invalid_terms",
                "payment terms are 0..365 days",
                {"payment_terms_days": "0..365"},
            )
        with transaction(self.sessions) as s:
            if s.scalars(select(CustomerRow.id).where(CustomerRow.code == code)).first():
                raise ConflictError(
                    "customer.exists", f"a customer {code!r} exists", {"code": "unique"}
                )
            row = CustomerRow(
                code=code,
                name=require_text(name, "name"),
                email=optional_text(email, "email"),
                payment_terms_days=payment_terms_days,
                created_at=self.clock.now(),
            )
            s.add(row)
            s.flush()
            return customer_from_row(row)

    def get_customer(self, code: str, principal: Principal = SYSTEM) -> Customer:
        with transaction(self.sessions) as s:
            return customer_from_row(get_customer_row(s, code, principal))

    def list_customers(
        self, principal: Principal = SYSTEM, q: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page[Customer]:
        check_paging(limit, offset)
        stmt = select(CustomerRow)
        scoped = principal.scope(None)
        if scoped is not None:
            stmt = stmt.where(CustomerRow.code == scoped)
        if q:
            stmt = stmt.where(CustomerRow.name.contains(q) | CustomerRow.code.contains(q))
        with transaction(self.sessions) as s:
            total = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
            rows = s.scalars(stmt.order_by(CustomerRow.code).limit(limit).offset(offset))
            return Page([customer_from_row(r) for r in rows], total, limit, offset)

    # users and tokens

    def create_user(self, name: str, role: Role | str, customer: str | None = None) -> User:
        role = parse_role(role) if isinstance(role, str) else role
        name = require_text(name, "name", 128)
        customer = optional_text(customer, "customer", 64)
        if (role is Role.CUSTOMER) != (customer is not None):
            raise ValidationError(
                "user.customer_mismatch",
                "a customer user names its customer; staff users name none",
                {"customer": "required iff role is customer"},
            )
        with transaction(self.sessions) as s:
            if s.scalars(select(UserRow.id).where(UserRow.name == name)).first():
                raise ConflictError("user.exists", f"a user {name!r} exists", {"name": "unique"})
            cust = get_customer_row(s, customer) if customer else None
            row = UserRow(
                name=name,
                role=role.value,
                customer=cust,
                disabled=False,
                created_at=self.clock.now(),
            )
            s.add(row)
            s.flush()
            return _user(row)

    def list_users(self, limit: int = 50, offset: int = 0) -> Page[User]:
        check_paging(limit, offset)
        with transaction(self.sessions) as s:
            total = s.scalar(select(func.count(UserRow.id))) or 0
            rows = s.scalars(
                select(UserRow)
                .options(joinedload(UserRow.customer))
                .order_by(UserRow.name)
                .limit(limit)
                .offset(offset)
            )
            return Page([_user(r) for r in rows], total, limit, offset)

    def issue_token(self, user: str, days: int = 90, label: str | None = None) -> IssuedToken:
        """A new token for ``user``; the secret is in the result and nowhere else."""
        if not 1 <= days <= 3650:
            raise ValidationError(
                "token.invalid_expiry", "days must be 1..3650", {"days": "1..3650"}
            )
        with transaction(self.sessions) as s:
            row = s.scalars(select(UserRow).where(UserRow.name == user)).one_or_none()
            if row is None:
                raise NotFoundError("user.not_found", f"no user {user!r}", {"user": user})
            return self._issue(s, row, days, label)

    def _issue(self, s: Session, user: UserRow, days: int, label: str | None) -> IssuedToken:
        secret = "sl_" + secrets.token_urlsafe(32)
        now = self.clock.now()
        row = ApiTokenRow(
            user=user,
            token_hash=hash_secret(secret),
            prefix=secret[:10],
            label=optional_text(label, "label"),
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
        s.add(row)
        s.flush()
        return IssuedToken(_token(row), secret)

    def revoke_token(self, token_id: int) -> Token:
        with transaction(self.sessions) as s:
            row = s.get(ApiTokenRow, token_id)
            if row is None:
                raise NotFoundError(
                    "token.not_found", f"no token {token_id}", {"token_id": token_id}
                )
            if row.revoked_at is None:
                row.revoked_at = self.clock.now()
            return _token(row)

    def revoke_secret(self, secret: str) -> None:
        """Revoke the token whose secret is ``secret`` (a dashboard sign-out); unknown: no-op."""
        with transaction(self.sessions) as s:
            row = s.scalars(
                select(ApiTokenRow).where(ApiTokenRow.token_hash == hash_secret(secret))
            ).one_or_none()
            if row is not None and row.revoked_at is None:
                row.revoked_at = self.clock.now()

    def list_tokens(self, user: str | None = None) -> list[Token]:
        with transaction(self.sessions) as s:
            stmt = select(ApiTokenRow).join(UserRow).options(joinedload(ApiTokenRow.user))
            if user:
                stmt = stmt.where(UserRow.name == user)
            return [_token(r) for r in s.scalars(stmt.order_by(ApiTokenRow.id))]

    def authenticate(self, secret: str | None) -> Principal:
        """The principal owning ``secret``; ``auth.invalid_token`` (401) otherwise."""
        if not secret:
            raise UnauthorizedError("auth.missing_token", "send Authorization: Bearer <token>")
        with transaction(self.sessions) as s:
            row = s.execute(
                select(ApiTokenRow, UserRow, CustomerRow.code)
                .join(UserRow, ApiTokenRow.user_id == UserRow.id)
                .outerjoin(CustomerRow, UserRow.customer_id == CustomerRow.id)
                .where(ApiTokenRow.token_hash == hash_secret(secret))
            ).one_or_none()
        if row is None:
            raise UnauthorizedError("auth.invalid_token", "unknown token")
        token, user, code = row
        if token.revoked_at is not None:
            raise UnauthorizedError("auth.token_revoked", "the token was revoked")
        if token.expires_at <= self.clock.now():
            raise UnauthorizedError("auth.token_expired", "the token has expired")
        if user.disabled:
            raise UnauthorizedError("auth.user_disabled", "the user is disabled")
        return Principal(user.id, user.name, Role(user.role), user.customer_id, code)

    def bootstrap(self, name: str = "admin", days: int = 365) -> IssuedToken:
        """First admin and its token; ``init.already_done`` once an admin exists."""
        with transaction(self.sessions) as s:
            if s.scalars(select(UserRow.id).where(UserRow.role == Role.ADMIN.value)).first():
                raise ConflictError(
                    "init.already_done", "an admin exists; use `suanli user token`", {}
                )
            row = UserRow(
                name=require_text(name, "name", 128),
                role=Role.ADMIN.value,
                disabled=False,
                created_at=self.clock.now(),
            )
            s.add(row)
            s.flush()
            return self._issue(s, row, days, "bootstrap")
