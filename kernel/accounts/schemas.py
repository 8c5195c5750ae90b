"""Account structs on the wire."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from kernel.markers import N_

Role = Literal["resident", "moderator", "admin", "auditor", "org_staff", "supervisor"]
# org_staff: answers residents' reports for one organisation (reports.services scopes it);
# supervisor: oversees every organisation's reports (reassigns, sends reopened ones back).
ROLES: tuple[Role, ...] = ("resident", "moderator", "admin", "auditor", "org_staff", "supervisor")
# Marked for translation; pages show a role as _(role).
ROLE_NAMES = (
    N_("resident"),
    N_("moderator"),
    N_("admin"),
    N_("auditor"),
    N_("org_staff"),
    N_("supervisor"),
)

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
    # The owner followed the link sent to ``email`` (kernel.accounts.service).
    email_confirmed: bool = False


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
    # Kopecks; 0 when no budget has been set.
    budget: int = 0


class DistrictChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A district's new name and budget (kopecks), from the municipality's page."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    budget: Annotated[int, msgspec.Meta(ge=0, le=10**15)]


class VerificationIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What staff record after checking a resident's documents. Neither document field
    enters the log: the type is a note for staff, the number is kept only as an HMAC
    (one document verifies one account)."""

    district: str
    document_type: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    document_number: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class Verification(msgspec.Struct, frozen=True):
    """A resident's verification as the API shows it: no document data."""

    district: str
    verified_at: int
    # The public id of the staff account that verified, and the log entry.
    staff: str
    seq: int
