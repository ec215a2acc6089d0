"""Config of admission control: how constraints act, which images lines may run, which labels they carry."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from components.config.problems import Problems
from components.config.types import StrictModel
from components.core import vocabulary as vocab

_HOST = r"[a-z0-9.-]+(:[0-9]{1,5})?"
# an exact image: registry host, a path, maybe a tag or digest — and no '*'
EXACT_IMAGE_RE = re.compile(rf"^{_HOST}/[A-Za-z0-9._/:@-]+$")
# a prefix: registry host, at least one path segment under it, then '/*' (K8sAllowedReposv2 matches by plain
# string prefix, so a prefix that does not end at a '/' admits its neighbours: 'ghcr.io/acme*' admits
# 'ghcr.io/acme-evil/...', and 'docker.io/*' admits every image anyone pushed to Docker Hub)
IMAGE_PREFIX_RE = re.compile(rf"^{_HOST}(/[A-Za-z0-9._-]+)+/\*$")
_REGISTRY_WIDE_RE = re.compile(rf"^({_HOST})/\*$")


def image_pattern_problem(value: str) -> str | None:
    """Why an allowed-images entry is refused, or None: an exact image, or a prefix ending in '/*' with at
    least one path segment under the registry host."""
    if "*" not in value:
        if EXACT_IMAGE_RE.match(value):
            return None
        return (
            f"'{value}' is not an image: write the registry host and the image path, e.g. "
            "'registry.plant.local/lines/press/plc-gateway:1.4.2'"
        )
    if IMAGE_PREFIX_RE.match(value):
        return None
    wide = _REGISTRY_WIDE_RE.match(value)
    if wide:
        return (
            f"'{value}' admits every image of the registry {wide.group(1)} (on a public registry, anything anyone "
            f"pushed); name a path under it, e.g. '{wide.group(1)}/<organisation>/*', or list exact images"
        )
    if value.count("*") == 1 and value.endswith("*") and not value.endswith("/*") and "/" in value:
        return (
            f"'{value}' is a prefix that does not end at a '/': it also admits every image whose path merely "
            f"starts the same (e.g. '{value[:-1]}-evil/...'); end it in '/*', e.g. '{value[:-1].rstrip('/')}/*', "
            "or list exact images"
        )
    return (
        f"'{value}' is not allowed here: an exact image (no '*'), or a prefix of the registry host and at least "
        "one path segment ending in '/*' (e.g. 'registry.plant.local/lines/*')"
    )


def image_pattern(value: str) -> str:
    problem = image_pattern_problem(value)
    if problem:
        raise ValueError(problem)
    return value


ImagePattern = Annotated[str, AfterValidator(image_pattern)]


class GatekeeperConfig(StrictModel):
    enforcement_action: Literal["dryrun", "warn", "deny"] = Field(
        default="deny",
        description=(
            "What constraints do on a violation. Roll a new factory out with `dryrun` (audit only), read the "
            "audit results, then switch to `deny`. Production stacks require `deny`."
        ),
    )
    webhook_failure_policy: Literal["Fail", "Ignore"] = Field(
        default="Fail",
        description=(
            "What the API server does with a request when Gatekeeper's admission webhook cannot answer (down, "
            "restarting, timing out): `Fail` refuses it (fail closed), `Ignore` admits it unjudged (fail open). "
            "`Ignore` is a deliberate trade of admission control for availability, acceptable only in a staging "
            "or development stack — never in production — and it is only ever set here, never implied by a "
            "cluster's profile."
        ),
    )
    allowed_images: list[ImagePattern] = Field(
        default_factory=list,
        description=(
            "Images lines may run: exact images (no '*'), or prefixes of the registry host and at least one path "
            "segment ending in '/*' ('registry.plant.local/lines/*'; 'docker.io/*' and 'ghcr.io/acme*' are "
            "refused). The site registry mirror is always allowed; without a mirror this list is required."
        ),
    )
    required_labels: list[str] = Field(
        default_factory=lambda: [vocab.NAME],
        description="Labels every Deployment/StatefulSet/DaemonSet in a line must carry.",
    )


def check_production_admission(environment: str | None, gatekeeper: GatekeeperConfig, problems: Problems) -> None:
    """Production enforces every constraint and fails closed; other stages may audit, warn or fail open."""
    if environment != "production":
        return
    if gatekeeper.enforcement_action != "deny":
        problems.add(
            ("security", "gatekeeper", "enforcementAction"),
            f"production stacks enforce every constraint: '{gatekeeper.enforcement_action}' only reports "
            "violations and admits them; set deny (roll a new factory out with dryrun in a staging or "
            "development stack)",
        )
    if gatekeeper.webhook_failure_policy != "Fail":
        problems.add(
            ("security", "gatekeeper", "webhookFailurePolicy"),
            f"production stacks fail closed: with '{gatekeeper.webhook_failure_policy}' the API server admits "
            "every request unjudged while Gatekeeper is down, restarting or slow; set Fail (the default) — "
            "Ignore is for staging or development stacks only",
        )
