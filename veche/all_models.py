"""Imports every package's tables so that SQLModel's metadata knows the whole schema."""

from sqlmodel import SQLModel

from audit import models as audit_models
from ballot import models as ballot_models
from proposals import models as proposals_models
from veche.accounts import models as accounts_models

metadata = SQLModel.metadata

__all__ = ["accounts_models", "audit_models", "ballot_models", "metadata", "proposals_models"]
