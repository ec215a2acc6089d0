"""Config of admission control: how constraints act, which images lines may run, which labels they carry."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from components.config.types import StrictModel, pattern
from components.core import vocabulary as vocab

ImagePattern = Annotated[
    str,
    AfterValidator(
        pattern(
            re.compile(r"^[a-z0-9.-]+(:[0-9]{1,5})?/[A-Za-z0-9._/:@-]*\*?$"),
            "an image or image prefix with the registry host, '*' only at the end (e.g. 'registry.plant.local/*')",
        )
    ),
]


class GatekeeperConfig(StrictModel):
    enforcement_action: Literal["dryrun", "warn", "deny"] = Field(
        default="deny",
        description=(
            "What constraints do on a violation. Roll a new factory out with `dryrun` (audit only), read the "
            "audit results, then switch to `deny`."
        ),
    )
    allowed_images: list[ImagePattern] = Field(
        default_factory=list,
        description=(
            "Images lines may run: exact images, or prefixes ending in '*'. The site registry mirror is always "
            "allowed; without a mirror this list is required."
        ),
    )
    required_labels: list[str] = Field(
        default_factory=lambda: [vocab.NAME],
        description="Labels every Deployment/StatefulSet/DaemonSet in a line must carry.",
    )
