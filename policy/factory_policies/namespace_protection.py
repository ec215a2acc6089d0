"""In production, no Namespace can be deleted by a `pulumi destroy`, a removed config entry or a rename.

Deleting a namespace deletes everything in it — a line's volumes, a platform add-on's state — and a rename of
the Pulumi resource is a delete and a create to the engine. `protect=True` makes the engine refuse; the
program sets it (with `retain_on_delete`) on every namespace of a production stack. This policy holds that for
any program, also one whose `pulumi up` never ran `make plan`.
"""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from factory_policies.controls import IEC_62443, K8S_NAMESPACE, object_name
from factory_policies.kit import resource_policy
from factory_policies.settings import environment, is_production


def _check(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if is_production(args) and not args.opts.protect:
        name = object_name(args.props, args.name)
        report_violation(f"namespace '{name}' is not protected (opts.protect) in a {environment(args)} stack", None)


namespace_protected = resource_policy(
    name="namespace-protected-in-production",
    title="Namespaces are protected from deletion in production",
    description=(
        "In production stacks every Namespace is registered with protect=True (the program also sets "
        "retain_on_delete, which CrossGuard cannot see): deleting one deletes the line's volumes or the add-on's "
        "state in it, and renaming its Pulumi resource without an alias would delete and re-create it."
    ),
    controls=(IEC_62443("SR 7.3"), IEC_62443("SR 7.4")),
    resource_types=(K8S_NAMESPACE,),
    check=_check,
    severity=Severity.HIGH,
    remediation=(
        "Create namespaces through the platform's components (they protect stateful resources in production); "
        "a move keeps its URN with `aliases`. A disposable stack sets environment to staging or development."
    ),
    config=("environment",),
)
