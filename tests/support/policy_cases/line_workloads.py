"""Cases of the line-workload policies (the CrossGuard twins of Gatekeeper's line rules): scheduling, inline CSI
drivers, runtime classes, the line label and PodDisruptionBudgets — each a compliant fixture and the one-field
edits a line team member (or a careless program) would make."""

from __future__ import annotations

from typing import Any

import factory_policies as fp
from tests.support.policy_cases.kubernetes import CRONJOB, DEPLOYMENT, POD, workload
from tests.support.policy_kit import DELETE, Case, Mutation, Res

LINE = "factory-floor.io/line"
CONTROL_PLANE = "node-role.kubernetes.io/control-plane"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
SECRETS_STORE = {"name": "vault", "csi": {"driver": "secrets-store.csi.k8s.io", "readOnly": True}}


def scheduled() -> tuple[Res, ...]:
    """A Deployment in line-mes that tolerates only workload-node taints and selects nodes by label."""
    props = workload(DEPLOYMENT)
    spec = props["spec"]["template"]["spec"]
    spec["nodeSelector"] = {"plant.example/zone": "mes"}
    spec["tolerations"] = [
        {"key": "plant.example/line", "operator": "Equal", "value": "mes", "effect": "NoSchedule"},
        {
            "key": "node.kubernetes.io/not-ready",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 300.0,
        },
    ]
    return (Res(DEPLOYMENT, props, name="order-api"),)


def labelled(kind: str) -> tuple[Res, ...]:
    """A workload in line-mes labelled mes on itself and every template (what `workload` builds)."""
    props: dict[str, Any] = workload(kind)
    assert props["metadata"]["labels"] == {LINE: "mes"}
    return (Res(kind, props, name="order-api"),)


def with_spec(**spec: Any) -> tuple[Res, ...]:
    props = workload(DEPLOYMENT)
    props["spec"]["template"]["spec"].update(spec)
    return (Res(DEPLOYMENT, props, name="order-api"),)


def budget(**spec: Any) -> tuple[Res, ...]:
    props = {
        "metadata": {"name": "order-api", "namespace": "line-mes"},
        "spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": "order-api"}}, **spec},
    }
    return (Res(PDB, props, name="order-api"),)


SCHEDULING = Case(
    fp.workload_scheduling,
    scheduled(),
    (
        Mutation("node-name", f"{POD}.nodeName", "cp-1", "nodeName is 'cp-1'"),
        Mutation(
            "control-plane",
            f"{POD}.tolerations.0",
            {"key": CONTROL_PLANE, "operator": "Exists", "effect": "NoSchedule"},
            f"tolerations[0] tolerates the control-plane taint '{CONTROL_PLANE}'",
        ),
        Mutation(
            "legacy-master",
            f"{POD}.tolerations.0.key",
            "node-role.kubernetes.io/master",
            "control-plane taint 'node-role.kubernetes.io/master'",
        ),
        Mutation(
            "etcd-node",
            f"{POD}.tolerations.0.key",
            "node-role.kubernetes.io/etcd",
            "taint 'node-role.kubernetes.io/etcd'",
        ),
        Mutation("critical-add-ons", f"{POD}.tolerations.0.key", "CriticalAddonsOnly", "taint 'CriticalAddonsOnly'"),
        Mutation("every-taint", f"{POD}.tolerations.1", {"operator": "Exists"}, "tolerates every taint"),
    ),
)

INLINE_CSI = Case(
    fp.workload_inline_csi_drivers,
    with_spec(),
    (Mutation("secrets-store", f"{POD}.volumes.0", SECRETS_STORE, "driver 'secrets-store.csi.k8s.io'"),),
)
INLINE_CSI_ALLOWED = Case(
    fp.workload_inline_csi_drivers,
    with_spec(volumes=[SECRETS_STORE]),
    (Mutation("other-driver", f"{POD}.volumes.0.csi.driver", "hostpath.csi.k8s.io", "driver 'hostpath.csi.k8s.io'"),),
    config={"inlineCsiDrivers": ["secrets-store.csi.k8s.io"]},
    id="workload-inline-csi-drivers:allowed",
)

RUNTIME_CLASS = Case(
    fp.workload_runtime_class,
    with_spec(),
    (Mutation("unlisted", f"{POD}.runtimeClassName", "runc-privileged", "runtimeClassName is 'runc-privileged'"),),
)
RUNTIME_CLASS_ALLOWED = Case(
    fp.workload_runtime_class,
    with_spec(runtimeClassName="gvisor"),
    (Mutation("other-class", f"{POD}.runtimeClassName", "kata", "runtimeClassName is 'kata'"),),
    config={"runtimeClasses": ["gvisor"]},
    id="workload-runtime-class:allowed",
)

LINE_LABEL = Case(
    fp.workload_line_label,
    labelled(DEPLOYMENT),
    (
        Mutation("another-line", ("metadata", "labels", LINE), "paint", f"metadata.labels['{LINE}'] is 'paint'"),
        Mutation(
            "template-unlabelled",
            ("spec", "template", "metadata", "labels", LINE),
            DELETE,
            f"spec.template.metadata.labels['{LINE}'] has none",
        ),
    ),
)
LINE_LABEL_CRONJOB = Case(
    fp.workload_line_label,
    labelled(CRONJOB),
    (
        Mutation(
            "job-template-another-line",
            ("spec", "jobTemplate", "metadata", "labels", LINE),
            "paint",
            f"spec.jobTemplate.metadata.labels['{LINE}'] is 'paint'",
        ),
        Mutation(
            "pod-template-another-line",
            ("spec", "jobTemplate", "spec", "template", "metadata", "labels", LINE),
            "paint",
            "spec.jobTemplate.spec.template.metadata.labels",
        ),
    ),
    id="workload-line-label:cronjob",
)

DISRUPTION = Case(
    fp.pdb_allows_disruption,
    budget(maxUnavailable=1.0),
    (
        Mutation("max-unavailable-zero", "spec.maxUnavailable", 0.0, "maxUnavailable is 0"),
        Mutation("max-unavailable-zero-percent", "spec.maxUnavailable", "0%", "maxUnavailable is 0%"),
    ),
)
DISRUPTION_MIN = Case(
    fp.pdb_allows_disruption,
    budget(minAvailable="50%"),
    (Mutation("min-available-all", "spec.minAvailable", "100%", "minAvailable is 100%"),),
    id="pdb-allows-disruption:min-available",
)

CASES = [
    SCHEDULING,
    INLINE_CSI,
    INLINE_CSI_ALLOWED,
    RUNTIME_CLASS,
    RUNTIME_CLASS_ALLOWED,
    LINE_LABEL,
    LINE_LABEL_CRONJOB,
    DISRUPTION,
    DISRUPTION_MIN,
]
