"""Shared vocabulary of the pack: frameworks and controls, type tokens, and readers for props as CrossGuard
delivers them.

CrossGuard hands a policy the resource's inputs with camelCase wire names, every number as a float, secrets
unwrapped (or wrapped in `pulumi_policy.Secret` on the remediation path) and containers as read-only
`Mapping`/`Sequence` proxies — never plain dicts. During `pulumi preview` a value that depends on another
resource's output is *unknown*: the analyzer's proxy raises `UnknownValueError` when it is read, and the
offline harness records it as `pulumi.output.Unknown`. The readers here treat both the same way
(`PreviewUnknownError`), so a policy never mistakes "not known yet" for "not set".
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi.output import Unknown
from pulumi_policy import PolicyComplianceFramework, Secret
from pulumi_policy.proxy import UnknownValueError

# --- frameworks and controls ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Framework:
    key: str  # the tag prefix, e.g. "cis-k8s"
    compliance: PolicyComplianceFramework

    def __call__(self, control: str) -> Control:
        return Control(self, control)


@dataclass(frozen=True)
class Control:
    """One framework reference of a policy; its tag ("cis-k8s:5.2.1") is what Pulumi Cloud shows."""

    framework: Framework
    control: str

    @property
    def tag(self) -> str:
        return f"{self.framework.key}:{self.control}"


def _framework(key: str, name: str, version: str, url: str) -> Framework:
    return Framework(key, PolicyComplianceFramework(name=name, version=version, reference=url))


IEC_62443 = _framework("iec62443", "IEC 62443-3-3", "2013", "https://webstore.iec.ch/publication/7033")
CIS_KUBERNETES = _framework(
    "cis-k8s", "CIS Kubernetes Benchmark", "1.9", "https://www.cisecurity.org/benchmark/kubernetes"
)
PSS = _framework(
    "pss", "Pod Security Standards", "v1", "https://kubernetes.io/docs/concepts/security/pod-security-standards/"
)
CIS_AWS = _framework(
    "cis-aws", "CIS AWS Foundations Benchmark", "3.0", "https://www.cisecurity.org/benchmark/amazon_web_services"
)
CIS_GCP = _framework(
    "cis-gcp",
    "CIS Google Cloud Platform Foundation Benchmark",
    "2.0",
    "https://www.cisecurity.org/benchmark/google_cloud_computing_platform",
)
CIS_AZURE = _framework(
    "cis-azure", "CIS Microsoft Azure Foundations Benchmark", "2.0", "https://www.cisecurity.org/benchmark/azure"
)
FRAMEWORKS = (CIS_KUBERNETES, PSS, CIS_AWS, CIS_GCP, CIS_AZURE, IEC_62443)


def references(*refs: str) -> list[str]:
    """Tags carrying every framework reference of a control, e.g. 'iec62443:SR 5.1', 'cis-k8s:5.3.2'."""
    return list(refs)


# --- type tokens ---------------------------------------------------------------------------------------

K8S_NAMESPACE = "kubernetes:core/v1:Namespace"
K8S_NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
K8S_SERVICE = "kubernetes:core/v1:Service"
K8S_SECRET = "kubernetes:core/v1:Secret"
K8S_SECRET_PATCH = "kubernetes:core/v1:SecretPatch"
K8S_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
K8S_CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
K8S_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
K8S_CLUSTER_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
HELM_V3_RELEASE = "kubernetes:helm.sh/v3:Release"
HELM_V4_CHART = "kubernetes:helm.sh/v4:Chart"


# --- reading props -------------------------------------------------------------------------------------


class PreviewUnknownError(Exception):
    """A value needed for a verdict is computed by the engine later; `pulumi up` judges the real value."""


PREVIEW_UNKNOWN = (UnknownValueError, PreviewUnknownError)


def _known(value: Any) -> Any:
    if isinstance(value, Secret):
        value = value.value
    if isinstance(value, Unknown):
        raise PreviewUnknownError()
    return value


def dig(node: Any, *path: str | int) -> Any:
    """The value at `path` (keys and list indexes), None when any step is missing; raises when unknown."""
    for step in path:
        if isinstance(step, int):
            node = node[step] if is_list(node) and -len(node) <= step < len(node) else None
        elif isinstance(node, Mapping):
            node = node.get(step)  # the analyzer's proxy raises UnknownValueError here for an unknown
        else:
            return None
        node = _known(node)
        if node is None:
            return None
    return _known(node)


def is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def items(node: Any, *path: str | int) -> list[Any]:
    """The list at `path`, or [] — for the many optional arrays of a Kubernetes spec."""
    value = dig(node, *path)
    return [_known(value[i]) for i in range(len(value))] if is_list(value) else []


def mapping(node: Any, *path: str | int) -> Mapping[str, Any]:
    value = dig(node, *path)
    return value if isinstance(value, Mapping) else {}


def present(node: Any, key: str) -> bool:
    """Whether `key` is set, without reading its value (reading an unknown would raise)."""
    return isinstance(node, Mapping) and key in list(iter(node))


def number(value: Any) -> float | None:
    """Numbers arrive as floats, some providers send numeric strings: both become a float, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def walk_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key in value:
            yield from walk_strings(dig(value, key))
    elif is_list(value):
        for entry in items(value):
            yield from walk_strings(entry)


def ancestor_types(urn: str) -> list[str]:
    """The types of a resource's parents, from its URN (urn:pulumi:stack::project::A$B$type::name)."""
    parts = urn.split("::")
    return parts[2].split("$")[:-1] if len(parts) >= 4 else []


def rendered_by_chart(urn: str) -> bool:
    """An object a kubernetes.helm.v4.Chart rendered from a third-party chart (not written by the program)."""
    return HELM_V4_CHART in ancestor_types(urn)


def metadata(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(props, "metadata")


def labels(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(props, "metadata", "labels")


def annotations_of(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(props, "metadata", "annotations")


def object_name(props: Mapping[str, Any], fallback: str) -> str:
    name = dig(props, "metadata", "name")
    return str(name) if name else fallback


def namespace_of(props: Mapping[str, Any]) -> str:
    """A namespaced object without metadata.namespace lands in the provider's default namespace."""
    namespace = dig(props, "metadata", "namespace")
    return str(namespace) if namespace else "default"
