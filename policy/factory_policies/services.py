"""A Service opens a door to the plant network only in the namespaces the stack names."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from factory_policies.controls import IEC_62443, K8S_SERVICE, dig, items, namespace_of, object_name
from factory_policies.kit import resource_policy
from factory_policies.settings import setting

EXPOSING_TYPES = frozenset({"LoadBalancer", "NodePort"})


def _check(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    namespace = namespace_of(args.props)
    if namespace in setting(args, "exposedServiceNamespaces"):
        return
    name = object_name(args.props, args.name)
    service_type = dig(args.props, "spec", "type")
    if service_type in EXPOSING_TYPES:
        report_violation(f"Service {namespace}/{name} is of type {service_type}", None)
    if items(args.props, "spec", "externalIPs"):
        # externalIPs let a Service claim any address on the nodes (CVE-2020-8554)
        report_violation(f"Service {namespace}/{name} sets spec.externalIPs", None)


service_exposure = resource_policy(
    name="service-exposure-allowed-namespaces",
    title="LoadBalancer and NodePort Services only where allowed",
    description=(
        "Services of type LoadBalancer or NodePort, or with spec.externalIPs, exist only in the namespaces "
        "listed in `exposedServiceNamespaces` (none by default): a line is a zone, its boundary is the "
        "platform's ingress, not a Service of its own."
    ),
    controls=(IEC_62443("SR 5.2"), IEC_62443("SR 5.1")),
    resource_types=(K8S_SERVICE,),
    check=_check,
    severity=Severity.HIGH,
    remediation=(
        "Use a ClusterIP Service behind the platform ingress; if the namespace is a deliberate zone boundary "
        "(an edge gateway), add it to the pack config `exposedServiceNamespaces`."
    ),
    config=("exposedServiceNamespaces",),
)
