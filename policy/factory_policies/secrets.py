"""Kubernetes Secrets never carry values from the program: they come from Vault through External Secrets."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from factory_policies.controls import (
    CIS_KUBERNETES,
    IEC_62443,
    K8S_SECRET,
    K8S_SECRET_PATCH,
    namespace_of,
    object_name,
    present,
    rendered_by_chart,
)
from factory_policies.kit import resource_policy
from factory_policies.settings import setting

LITERAL_FIELDS = ("data", "stringData")


def _check(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    name = f"{namespace_of(args.props)}/{object_name(args.props, args.name)}"
    for field in LITERAL_FIELDS:
        # presence is enough — the value itself may be a secret or unknown during preview, and reading it
        # is neither needed nor wanted
        if present(args.props, field):
            report_violation(f"Secret {name} sets {field} from the program; its value ends up in state", None)


def vendor_chart_secret(args: ResourceValidationArgs) -> str | None:
    """A platform add-on's chart (Falcosidekick's config, webhook certificates) renders its own Secrets in its
    exempt namespace. Those carry chart values, already in state as the Chart's inputs: the control for them
    is that no credential goes into chart values (use the chart's existingSecret, fed by External Secrets)."""
    namespace = namespace_of(args.props)
    if rendered_by_chart(args.urn) and namespace in setting(args, "exemptNamespaces"):
        return f"rendered by a catalogue chart in the platform namespace '{namespace}' from its values"
    return None


secret_no_literal_data = resource_policy(
    name="secret-no-literal-data",
    title="Secrets carry no literal data from the program",
    description=(
        "No Secret (or SecretPatch) sets data or stringData: secret values come from Vault through an "
        "ExternalSecret, so they never pass through the program, its state or its previews."
    ),
    controls=(CIS_KUBERNETES("5.4.2"), IEC_62443("SR 4.1"), IEC_62443("SR 1.5")),
    resource_types=(K8S_SECRET, K8S_SECRET_PATCH),
    check=_check,
    exemption=vendor_chart_secret,
    config=("exemptNamespaces",),
    severity=Severity.CRITICAL,
    remediation=(
        "Store the value in Vault and declare an ExternalSecret that materialises the Secret in the cluster; "
        "drop the Secret resource from the program. Secrets that a catalogue chart renders in its platform "
        "namespace are exempt; keep credentials out of chart values."
    ),
)
