"""Shared vocabulary of the pack: framework references and the readers policies use on camelCase props."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyComplianceFramework

IEC_62443 = PolicyComplianceFramework(name="IEC 62443-3-3", version="2013")
CIS_KUBERNETES = PolicyComplianceFramework(name="CIS Kubernetes Benchmark", version="1.9")
PSS = PolicyComplianceFramework(name="Pod Security Standards", version="v1")

K8S_NAMESPACE = "kubernetes:core/v1:Namespace"
K8S_NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
LINE_COMPONENT = "production-line"


def references(*refs: str) -> list[str]:
    """Tags carrying every framework reference of a control, e.g. 'iec62443:SR 5.1', 'cis-k8s:5.3.2'."""
    return list(refs)


def metadata(props: Mapping[str, Any]) -> Mapping[str, Any]:
    value = props.get("metadata")
    return value if isinstance(value, Mapping) else {}


def labels(props: Mapping[str, Any]) -> Mapping[str, Any]:
    value = metadata(props).get("labels")
    return value if isinstance(value, Mapping) else {}
