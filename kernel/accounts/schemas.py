"""Account structs on the wire."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from kernel.markers import N_

Role = Literal["resident", "moderator", "admin", "auditor"]
ROLES: tuple[Role, ...] = ("resident", "moderator", "admin", "auditor")
# Marked for translation; pages show a role as _(role).
ROLE_NAMES = (N_("resident"), N_("moderator"), N_("admin"), N_("auditor"))

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
Password = Annotated[str, msgspec.Meta(max_length=1024)]
DisplayName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
DistrictCode = Annotated[
    str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")
]


class Registration(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    email: Email
    display_name: DisplayName
    district: str
    password: Password


class Credentials(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    email: str
    password: Password


class Account(msgspec.Struct, frozen=True):
    id: int
    public_id: str
    email: str
    display_name: str
    district: str | None
    role: Role
    created_at: int


class LoginResult(msgspec.Struct, frozen=True):
    account: Account
    # Send it back as the X-CSRF-Token header on every unsafe request made with the cookie.
    csrf_token: str


class RoleChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    role: Role


class DistrictIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    code: DistrictCode
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class DistrictOut(msgspec.Struct, frozen=True):
    code: str
    name: str
