"""Imports every package's tables so that SQLModel's metadata knows the whole schema."""

from sqlmodel import SQLModel

from veche.accounts import models as accounts_models

metadata = SQLModel.metadata

__all__ = ["accounts_models", "metadata"]
