"""Third-party software goes through Helm v4 Charts, whose objects CrossGuard can see, at pinned versions."""

from __future__ import annotations

import re

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from factory_policies.controls import HELM_V3_RELEASE, HELM_V4_CHART, IEC_62443, dig
from factory_policies.kit import ADVISORY, resource_policy

# an exact SemVer (optionally v-prefixed) — ranges like '^1.2', '~1', '>=1', '1.x' or '*' float
_EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?$")


def _check_release(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    chart = dig(args.props, "chart") or args.name
    report_violation(
        f"helm.v3.Release '{chart}' installs objects no policy can see; use kubernetes.helm.v4.Chart", None
    )


def _check_chart_version(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    chart = dig(args.props, "chart") or args.name
    version = dig(args.props, "version")
    if not version or not _EXACT_VERSION.match(str(version)):
        report_violation(f"Chart '{chart}' version {version!r} is not an exact version", None)


helm_v3_release_forbidden = resource_policy(
    name="helm-v3-release-forbidden",
    title="No helm.v3.Release",
    description=(
        "helm.v3.Release installs a chart server-side, so its objects never reach CrossGuard and none of "
        "the pack's Kubernetes policies would judge them; kubernetes.helm.v4.Chart registers each object."
    ),
    controls=(IEC_62443("SR 7.8"), IEC_62443("SR 3.4")),
    resource_types=(HELM_V3_RELEASE,),
    check=_check_release,
    severity=Severity.HIGH,
    remediation="Replace the Release by kubernetes.helm.v4.Chart through the add-on catalogue.",
)

helm_chart_version_pinned = resource_policy(
    name="helm-chart-version-pinned",
    title="Helm charts are pinned to an exact version",
    description=(
        "Every kubernetes.helm.v4.Chart names an exact chart version, so an upstream release never changes "
        "a plant without a reviewed change to the add-on catalogue."
    ),
    controls=(IEC_62443("SR 3.4"), IEC_62443("SR 7.8")),
    resource_types=(HELM_V4_CHART,),
    check=_check_chart_version,
    severity=Severity.MEDIUM,
    level=ADVISORY,  # hygiene: the add-on catalogue pins versions; this catches a hand-written chart
    remediation="Set `version` to the exact chart version in the add-on catalogue.",
)
