"""How often one account may start a proposal, upload an image and pledge (``429`` with
``Retry-After``; the numbers are settings, ``kernel.settings``).

Each of these writes rows, files or log entries that stay; without a limit one account
could fill the database, the disk or the public log. Drafts and images are counted when
they are made, pledges when they are made or withdrawn (each writes a log entry).
"""

from __future__ import annotations

from dataclasses import dataclass

from kernel.limits import Limit
from kernel.markers import N_
from kernel.settings import Settings

__all__ = ["ProposalLimits"]

HOUR = 3600
DAY = 24 * HOUR


@dataclass(frozen=True)
class ProposalLimits:
    drafts: Limit
    uploads: Limit
    pledges: Limit

    @classmethod
    def from_settings(cls, settings: Settings) -> ProposalLimits:
        return cls(
            drafts=Limit(
                "proposal_draft",
                settings.proposal_drafts_per_day,
                DAY,
                N_("You have started many proposals today. Wait a while and try again."),
            ),
            uploads=Limit(
                "image_upload",
                settings.uploads_per_hour,
                HOUR,
                N_("You have uploaded many images this hour. Wait a while and try again."),
            ),
            pledges=Limit(
                "pledge",
                settings.pledges_per_hour,
                HOUR,
                N_(
                    "You have made or withdrawn many pledges this hour. Wait a while and try again."
                ),
            ),
        )
