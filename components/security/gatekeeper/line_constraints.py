"""The constraints on what a line's workloads may ask of the cluster besides their images (#9 finding 11 and its
low items): tags that do not move, a line label that tells the truth, placement left to the scheduler, pods a
node drain can evict, and no inline CSI driver or RuntimeClass the stack did not allow.

Like every constraint they judge every namespace but Kubernetes' and the platform's own (`constraints.constraint`
adds the exclusion); the line label is only judged in line namespaces, where the line is known."""

from __future__ import annotations

from components.core import vocabulary as vocab
from components.security.gatekeeper.config import GatekeeperConfig
from components.security.gatekeeper.constraints import WORKLOAD_KINDS, ConstraintSpec

PDB_KINDS = [{"apiGroups": ["policy"], "kinds": ["PodDisruptionBudget"]}]
# the control plane by any of its names, and the nodes a cluster keeps for its own critical add-ons
CONTROL_PLANE_TAINTS = [
    vocab.CONTROL_PLANE_TAINT,
    vocab.LEGACY_MASTER_TAINT,
    vocab.ETCD_TAINT,
    vocab.CRITICAL_ADDONS_TAINT,
]


def line_specs(gatekeeper: GatekeeperConfig) -> list[ConstraintSpec]:
    return [
        ConstraintSpec(
            "K8sImmutableTags", "pinned-images", {"tagPatterns": list(gatekeeper.immutable_tags)}, WORKLOAD_KINDS
        ),
        # every workload kind and the templates it hands on: the label a Deployment carries is not the one its
        # pods carry, and metrics and alerts are attributed by the pods'
        ConstraintSpec(
            "K8sLineLabel",
            "line-label",
            {"label": vocab.LINE, "namespacePrefix": vocab.LINE_NAMESPACE_PREFIX},
            WORKLOAD_KINDS,
        ),
        ConstraintSpec(
            "K8sLineScheduling", "line-scheduling", {"forbiddenTolerationKeys": CONTROL_PLANE_TAINTS}, WORKLOAD_KINDS
        ),
        ConstraintSpec("K8sDisruptionAllowed", "pdb-allows-disruption", {}, PDB_KINDS),
        ConstraintSpec(
            "K8sAllowedInlineCSIDrivers",
            "inline-csi-drivers",
            {"allowedDrivers": list(gatekeeper.inline_csi_drivers)},
            WORKLOAD_KINDS,
        ),
        ConstraintSpec(
            "K8sAllowedRuntimeClasses",
            "runtime-classes",
            {"allowedRuntimeClasses": list(gatekeeper.runtime_classes)},
            WORKLOAD_KINDS,
        ),
    ]
