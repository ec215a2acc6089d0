"""Config of admission control: how constraints act, which images lines may run, which labels they carry."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from components.config.problems import Problems
from components.config.types import StrictModel, pattern
from components.core import vocabulary as vocab

_HOST = r"[a-z0-9.-]+(:[0-9]{1,5})?"
# an exact image: registry host, a path, maybe a tag or digest — and no '*'
EXACT_IMAGE_RE = re.compile(rf"^{_HOST}/[A-Za-z0-9._/:@-]+$")
# a prefix: registry host, at least one path segment under it, then '/*' (K8sAllowedReposv2 matches by plain
# string prefix, so a prefix that does not end at a '/' admits its neighbours: 'ghcr.io/acme*' admits
# 'ghcr.io/acme-evil/...', and 'docker.io/*' admits every image anyone pushed to Docker Hub)
IMAGE_PREFIX_RE = re.compile(rf"^{_HOST}(/[A-Za-z0-9._-]+)+/\*$")
_REGISTRY_WIDE_RE = re.compile(rf"^({_HOST})/\*$")
DNS_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


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


# the lines' folders under the site mirror are `<mirror>/<factory>-lines/<line>/` (the Gatekeeper constraints
# name them; a first path segment ending so is never a registry host)
LINES_FOLDER_SUFFIX = "-lines"


def registry_host(segment: str) -> bool:
    """Whether an image reference's first segment names a registry (Docker's reference grammar: a '.' or a
    ':' in it, or 'localhost'); the site mirror keeps it as the first segment of each mirrored path."""
    return "." in segment or ":" in segment or segment == "localhost"


def mirror_entry_problem(value: str, mirror: str | None) -> str | None:
    """Why an allowed-images entry is refused because of the site mirror, or None. A mirror is a proxy cache:
    `<mirror>/*` admits everything it can fetch (all of Docker Hub), `<mirror>/<registry>/*` every image of
    that registry. The lines' folders below it (`<mirror>/<factory>-lines/<line>/`) belong to one line each,
    which the platform allows in that line's namespace only."""
    if mirror is None:
        return None
    prefix = value[:-1] if value.endswith("*") else None
    if prefix is not None and f"{mirror}/".startswith(prefix):
        return (
            f"'{value}' admits everything the site mirror {mirror} can fetch (a proxy cache: every image of every "
            "registry it mirrors, all of Docker Hub); name a path through it, e.g. "
            f"'{mirror}/ghcr.io/<organisation>/*', or list exact images — each line's own images are allowed in "
            f"its namespace without this list ({mirror}/<factory>-lines/<line>/)"
        )
    if not value.startswith(f"{mirror}/"):
        return None
    first, _, rest = value.removeprefix(f"{mirror}/").partition("/")
    if first.endswith(LINES_FOLDER_SUFFIX) or first.endswith(f"{LINES_FOLDER_SUFFIX}*"):
        return (
            f"'{value}' is in the lines' folders under the site mirror ({mirror}/<factory>-lines/<line>/): each is "
            "allowed in its own line's namespace by the platform, and listed here every line could run it"
        )
    if registry_host(first) and rest == "*":
        return (
            f"'{value}' admits every image of the registry {first} through the site mirror; name a path under it, "
            f"e.g. '{mirror}/{first}/<organisation>/*', or list exact images"
        )
    return None


def image_pattern(value: str) -> str:
    problem = image_pattern_problem(value)
    if problem:
        raise ValueError(problem)
    return value


ImagePattern = Annotated[str, AfterValidator(image_pattern)]


# --- image tags a line may use (`immutableTags`) ------------------------------------------------------------
#
# Which image tags count as pinned for a line (`security.gatekeeper.immutableTags`).
#
# Only a digest names one image for ever. A tag is a name its registry lets anyone with push rights move, so the
# tags a line may use are those that by convention name one release and that a plant's registry can be told to
# keep immutable (Harbor's tag immutability rules, ECR's IMMUTABLE repositories): full release versions and the
# commit tags CI builds. Moving tags — `latest`, `main`, `stable`, `edge`, a bare major `3` or a minor `3.20`,
# which upstreams re-point at every patch — are refused, and so is an image without a tag (it is `latest`).
# An empty list allows digests only.
#
# Patterns are RE2 (Gatekeeper's regex engine) and match the whole tag; the template anchors them.

DEFAULT_IMMUTABLE_TAGS: tuple[str, ...] = (
    # a full release version, maybe with a build or variant suffix: 1.4.2, v1.4.2, 1.4.2-alpine, 2.1.0-rc.1
    r"v?[0-9]+\.[0-9]+\.[0-9]+([._-][0-9A-Za-z]+)*",
    # a commit CI built (docker/metadata-action's `type=sha`: sha-<7 to 40 hex digits>)
    r"sha-[0-9a-f]{7,40}",
)
# tags that by convention move; a pattern admitting one of them pins nothing
MOVING_TAGS = ("latest", "main", "master", "stable", "edge", "nightly", "dev", "develop", "canary", "lts")
BARE_MAJORS = ("1", "v1", "20")
# Python accepts these, RE2 (what Gatekeeper evaluates) refuses them: the template would not compile
_NOT_RE2 = re.compile(r"\(\?[=!]|\(\?<[=!]|\(\?P=|\\[1-9]|\(\?>")


def tag_pattern_problem(value: str) -> str | None:
    """Why a tag pattern is refused, or None."""
    if not value:
        return "is empty; write a pattern such as 'v?[0-9]+\\.[0-9]+\\.[0-9]+' (a full release version)"
    if _NOT_RE2.search(value):
        return f"'{value}' uses a lookaround or a backreference, which Gatekeeper's regex engine (RE2) does not have"
    try:
        compiled = re.compile(f"(?:{value})")
    except re.error as error:
        return f"'{value}' is not a regular expression ({error})"
    moving = [tag for tag in (*MOVING_TAGS, *BARE_MAJORS) if compiled.fullmatch(tag)]
    if moving:
        return (
            f"'{value}' admits the moving tag{'s' if len(moving) > 1 else ''} {', '.join(repr(t) for t in moving)}: "
            "such a tag names whatever was pushed last; match full release versions (e.g. "
            "'v?[0-9]+\\.[0-9]+\\.[0-9]+') or pin digests"
        )
    return None


def tag_pattern(value: str) -> str:
    problem = tag_pattern_problem(value)
    if problem:
        raise ValueError(problem)
    return value


TagPattern = Annotated[str, AfterValidator(tag_pattern)]
# a CSI driver or RuntimeClass name (a DNS subdomain, as Kubernetes names both)
DnsSubdomain = Annotated[
    str,
    Field(max_length=253),
    AfterValidator(pattern(DNS_SUBDOMAIN_RE, "a DNS subdomain such as 'secrets-store.csi.k8s.io' or 'gvisor'")),
]


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
            "Images every line may run, besides its own folder under the site mirror "
            "(`<registryMirror>/<factory>-lines/<line>/*`, allowed in that line's namespace only): exact images "
            "(no '*'), or prefixes of the registry host and at least one path segment ending in '/*' "
            "('registry.plant.local/lines/*'; 'docker.io/*' and 'ghcr.io/acme*' are refused). Namespaces that are "
            "neither a line's nor the platform's run only this list. Never the mirror as a whole (`<mirror>/*`, "
            "`<mirror>/docker.io/*`: a proxy cache fetches anything) nor a line's folder. Without a mirror this "
            "list is required."
        ),
    )
    required_labels: list[str] = Field(
        default_factory=lambda: [vocab.NAME],
        description=(
            "Labels every Deployment, StatefulSet, DaemonSet, Job and CronJob in a line must carry (any value; the "
            f"line label `{vocab.LINE}` is required besides, equal to the namespace's line)."
        ),
    )
    immutable_tags: list[TagPattern] = Field(
        default_factory=lambda: list(DEFAULT_IMMUTABLE_TAGS),
        description=(
            "Tags a line's image may carry when it has no digest: RE2 patterns matched against the whole tag, for "
            "releases the registry keeps immutable. Default: full release versions (`1.4.2`, `v1.4.2-alpine`) "
            "and CI commit tags (`sha-<hex>`); `latest`, `main`, `stable`, `edge`, bare majors (`3`) and minors "
            "(`3.20`) move and are refused, and a pattern admitting such a tag is refused here. Empty: digests "
            "only."
        ),
    )
    inline_csi_drivers: list[DnsSubdomain] = Field(
        default_factory=list,
        description=(
            "CSI drivers a line's pods may mount inline (a `csi` volume in the pod spec), by driver name. Pod "
            "Security restricted allows any, and an inline volume reaches what its driver serves (a secrets-store "
            "driver every secret its provider can read) past PersistentVolumeClaims and quotas. Default: none."
        ),
    )
    runtime_classes: list[DnsSubdomain] = Field(
        default_factory=list,
        description=(
            "RuntimeClasses a line's pods may name (`runtimeClassName`); unset always runs in the node's default "
            "runtime. A RuntimeClass picks the runtime handler, which may isolate less. Default: none."
        ),
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


def check_mirror_entries(gatekeeper: GatekeeperConfig, mirror: str | None, problems: Problems) -> None:
    """No allowed-images entry opens the site mirror as a whole, a whole registry through it, or a line's own
    folder to every line (#9 finding 6)."""
    for index, entry in enumerate(gatekeeper.allowed_images):
        problem = mirror_entry_problem(entry, mirror)
        if problem:
            problems.add(("security", "gatekeeper", "allowedImages", index), problem)
