"""Supply chain: every image is pinned, and comes only from the registries the stack allows.

The matching mirrors the Gatekeeper constraints the platform installs (K8sImmutableTags,
K8sAllowedReposv2), so what preview refuses is exactly what admission would refuse later.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from factory_policies.controls import CIS_KUBERNETES, IEC_62443
from factory_policies.kit import resource_policy
from factory_policies.settings import setting
from factory_policies.workloads import WORKLOAD_TYPES, Container, containers, exempt_namespace, pod_spec

DIGEST = re.compile(r"@(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$")


def image_tag(image: str) -> str:
    """The tag follows the last ':' of the last path segment (before any '@digest'), so a registry port is
    never taken for it."""
    name = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return name.rsplit(":", 1)[1] if ":" in name else ""


def _immutable(tag: str, patterns: Sequence[str]) -> bool:
    for pattern in patterns:
        try:
            if re.fullmatch(pattern, tag):
                return True
        except re.error:
            continue  # a pattern the config check would have refused admits nothing
    return False


def pinning_problem(image: str, patterns: Sequence[str]) -> str | None:
    """None for a digest (it names exactly one image, whatever tag sits next to it) or a tag matching one of
    the immutable-tag patterns (whole tag, as Gatekeeper's K8sImmutableTags)."""
    if DIGEST.search(image):
        return None
    tag = image_tag(image)
    if not tag:
        return "has no tag or digest (resolves to latest)"
    if not _immutable(tag, patterns):
        return f"uses the tag '{tag}', which can move (without a digest a tag must match one of {list(patterns)})"
    return None


def allowed(image: str, patterns: list[str]) -> bool:
    """K8sAllowedReposv2: exact match, or prefix match when the pattern ends with '*'. A bare registry
    prefix would also admit 'registry.plant.attacker.example/...', so a trailing '*' must be explicit."""
    return any(image == p or (p.endswith("*") and image.startswith(p[:-1])) for p in patterns)


def _images(args: ResourceValidationArgs) -> Iterator[tuple[Container, str]]:
    pod = pod_spec(args.resource_type, args.props)
    if pod is None:
        return
    for container in containers(pod):
        image = container.get("image")
        if image is not None:
            yield container, str(image)


def _check_pinned(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    patterns = [str(p) for p in setting(args, "immutableTags")]
    for container, image in _images(args):
        problem = pinning_problem(image, patterns)
        if problem:
            report_violation(f"{container.where('image')} '{image}' {problem}", None)


def _check_registries(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    patterns = [str(p) for p in setting(args, "allowedRegistries")]
    if not patterns:
        return  # no allow-list configured: only the pinning policy applies
    for container, image in _images(args):
        if not allowed(image, patterns):
            report_violation(f"{container.where('image')} '{image}' is not from an allowed registry {patterns}", None)


image_pinned = resource_policy(
    name="image-pinned",
    title="Images are pinned to a digest or a release tag that does not move",
    description=(
        "Every container, initContainer and ephemeralContainer image of every workload kind names a digest, or "
        "a tag matching one of `immutableTags` (whole tag; by default full release versions such as 1.4.2 and "
        "CI commit tags sha-<hex>) — never latest, main, stable, a bare major or minor, or no tag at all — so "
        "what was reviewed is what runs (Gatekeeper K8sImmutableTags semantics)."
    ),
    controls=(IEC_62443("SR 3.4"), CIS_KUBERNETES("5.5.1")),
    resource_types=WORKLOAD_TYPES,
    check=_check_pinned,
    severity=Severity.HIGH,
    remediation=(
        "Reference the image by digest (image@sha256:...) or by a full release tag the registry keeps immutable."
    ),
    config=("immutableTags",),
)

image_allowed_registries = resource_policy(
    name="image-allowed-registries",
    title="Images come only from allowed registries",
    description=(
        "When the stack configures `allowedRegistries`, every image of every workload kind matches one "
        "entry exactly, or by prefix when the entry ends with '*' (Gatekeeper K8sAllowedReposv2 semantics). "
        "Like the Gatekeeper constraint, workloads in exempt namespaces are not judged; their images are "
        "still pinned (image-pinned has no exemption)."
    ),
    controls=(IEC_62443("SR 3.4"), IEC_62443("SR 7.8"), CIS_KUBERNETES("5.5.1")),
    resource_types=WORKLOAD_TYPES,
    check=_check_registries,
    severity=Severity.HIGH,
    remediation=(
        "Pull the image through the site's registry mirror (site.registryMirror) or add its repository, "
        "ending in '*', to the pack config `allowedRegistries`."
    ),
    config=("allowedRegistries", "exemptNamespaces"),
    exemption=exempt_namespace,
)
