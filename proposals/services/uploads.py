"""Images of proposals and milestone photos: checked by their bytes (``proposals.images``),
size-limited, stored under the data directory with a random name, served with the
content type found when they were checked."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.services.store import BatchLog
from kernel.accounts.models import User
from kernel.errors import Conflict, Forbidden, NotFound
from kernel.images import check_upload
from kernel.limits import account_subject, take
from kernel.markers import N_
from proposals.core import kinds
from proposals.core.schemas import ImageOut
from proposals.services.models import Image, Milestone, Proposal
from proposals.services.service import ProposalService

MAX_IMAGES = 10


def image_out(image: Image) -> ImageOut:
    return ImageOut(
        id=image.id,
        url=f"/uploads/{image.id}",
        content_type=image.content_type,
        width=image.width,
        height=image.height,
    )


class UploadService:
    def __init__(self, proposals: ProposalService, data_dir: Path) -> None:
        self.proposals = proposals
        self.directory = data_dir / "uploads"

    def check(self, data: bytes) -> tuple[str, str, int, int]:
        info = check_upload(data)
        return info.content_type, info.extension, info.width, info.height

    def _store(self, data: bytes, extension: str) -> tuple[str, str]:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = secrets.token_hex(16)
        target = self.directory / f"{name}.{extension}"
        temporary = self.directory / f".{name}.tmp"
        temporary.write_bytes(data)
        os.replace(temporary, target)
        return name, hashlib.sha256(data).hexdigest()

    def _row(
        self,
        name: str,
        digest: str,
        proposal_id: int,
        milestone_id: int | None,
        data: bytes,
        info: tuple[str, str, int, int],
    ) -> Image:
        content_type, extension, width, height = info
        return Image(
            id=name,
            proposal_id=proposal_id,
            milestone_id=milestone_id,
            content_type=content_type,
            extension=extension,
            size=len(data),
            width=width,
            height=height,
            sha256=digest,
            created_at=self.proposals.now(),
        )

    def add_image(self, db: Session, author: User, proposal_id: int, data: bytes) -> ImageOut:
        """An image of the proposal, by its author."""
        proposal = self.proposals.get(db, proposal_id, author)
        if proposal.author_id != author.id:
            raise Forbidden(N_("Only the author adds images to a proposal."), code="not_author")
        count = db.scalar(
            select(func.count()).select_from(Image).where(Image.proposal_id == proposal_id)
        )
        if (count or 0) >= MAX_IMAGES:
            raise Conflict(N_("A proposal has at most 10 images."), code="too_many_images")
        take(
            db, self.proposals.limits.uploads, account_subject(author.id), now=self.proposals.now()
        )
        info = self.check(data)
        name, digest = self._store(data, info[1])
        image = self._row(name, digest, proposal_id, None, data, info)
        db.add(image)
        db.flush()
        return image_out(image)

    def add_photo(self, proposal_id: int, milestone_id: int, data: bytes) -> ImageOut:
        """A photo of a milestone; logged with the hashes of all its photos."""
        info = self.check(data)
        name, digest = self._store(data, info[1])

        def work(wdb: Session, log: BatchLog) -> ImageOut:
            proposal = wdb.get(Proposal, proposal_id)
            milestone = wdb.get(Milestone, milestone_id)
            if proposal is None or milestone is None or milestone.proposal_id != proposal_id:
                raise NotFound(f"There is no milestone {milestone_id} of proposal {proposal_id}.")
            image = self._row(name, digest, proposal_id, milestone_id, data, info)
            wdb.add(image)
            wdb.flush()
            hashes = wdb.scalars(
                select(Image.sha256).where(Image.milestone_id == milestone_id).order_by(Image.id)
            ).all()
            log.append(
                kinds.MILESTONE_REPORTED,
                {
                    "proposal": proposal_id,
                    "milestone": milestone_id,
                    "stage": milestone.stage,
                    "percent": milestone.percent,
                    "date": milestone.date,
                    "photos": list(hashes),
                },
            )
            return image_out(image)

        try:
            return self.proposals.sequencer.run(work).result
        except Exception:
            (self.directory / f"{name}.{info[1]}").unlink(missing_ok=True)
            raise

    def read(self, db: Session, image_id: str) -> tuple[bytes, str]:
        image = db.get(Image, image_id) if len(image_id) == 32 else None
        path = self.directory / f"{image_id}.{image.extension}" if image else None
        if image is None or path is None or not path.is_file():
            raise NotFound("There is no such image.")
        return path.read_bytes(), image.content_type
