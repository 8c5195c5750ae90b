"""Proposal pages."""

from __future__ import annotations

from litestar import Controller


class ProposalPages(Controller):
    include_in_schema = False
