"""Imports every package's tables so that SQLModel's metadata knows the whole schema."""

from sqlmodel import SQLModel

from audit.services import models as audit_models
from ballot.services import models as ballot_models
from kernel import limits as limits_models
from kernel.accounts import models as accounts_models
from proposals.services import models as proposals_models
from reports.services import models as reports_models

metadata = SQLModel.metadata

__all__ = [
    "accounts_models",
    "audit_models",
    "ballot_models",
    "limits_models",
    "metadata",
    "proposals_models",
    "reports_models",
]
