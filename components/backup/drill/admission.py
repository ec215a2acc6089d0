"""What the restore drill's accounts may ask Velero, held in-tree (a ValidatingAdmissionPolicy, CEL in the API
server): RBAC can let a drill account create Backups and Restores but cannot say which, and Velero runs as
cluster-admin. Without this, a compromised drill pod could have Velero restore an old backup over a production
line (`existingResourcePolicy: update`), or back up a line's namespace into a location of its choosing.

For requests of a drill account (`restore-drill-<location>` in `velero`, matched by its username, so Velero and
people are not judged) every Backup and Restore must be exactly the drill's: named `restore-drill-<location>-…`,
of the marker namespace only, without cluster-scoped resources; a Backup into its own location; a Restore of one
of its own backups into its own scratch namespace, never updating what exists. Pure builders.
"""

from __future__ import annotations

from components.backup import velero
from components.backup.drill.manifests import COMPONENT, DRILL, MARKER_NAMESPACE
from components.config.factory import ClusterConfig
from components.core import vocabulary as vocab
from components.core.kube import Manifest

API = "admissionregistration.k8s.io/v1"
FIRST_MINOR = 30  # admissionregistration.k8s.io/v1 is served without a feature gate from Kubernetes 1.30
NAME = f"factory-floor-{DRILL}-scope"
ACCOUNT_PREFIX = f"system:serviceaccount:{velero.NAMESPACE}:{DRILL}-"
_LOCATION = "variables.location"
_NAME = f"'{DRILL}-' + {_LOCATION} + '-'"
_NO_CLUSTER = "(!has(object.spec.includeClusterResources) || object.spec.includeClusterResources == false)"
_MARKER_ONLY = f"(has(object.spec.includedNamespaces) && object.spec.includedNamespaces == ['{MARKER_NAMESPACE}'])"

VALIDATIONS: tuple[dict[str, str], ...] = (
    {
        "expression": f"object.metadata.name.startsWith({_NAME})",
        "messageExpression": f"'a drill account names its objects ' + {_NAME} + '<run>, not ' + object.metadata.name",
    },
    {
        "expression": f"{_MARKER_ONLY} && {_NO_CLUSTER}",
        "message": f"a drill account backs up and restores the namespace {MARKER_NAMESPACE} only, no cluster resources",
    },
    {
        "expression": f"object.kind != 'Backup' || object.spec.storageLocation == {_LOCATION}",
        "messageExpression": "'a drill account backs up into its own location ' + " + _LOCATION,
    },
    {
        "expression": (
            f"object.kind != 'Restore' || (has(object.spec.backupName) && object.spec.backupName.startsWith({_NAME})"
            f" && has(object.spec.namespaceMapping) && object.spec.namespaceMapping == "
            f"{{'{MARKER_NAMESPACE}': '{DRILL}-scratch-' + {_LOCATION}}}"
            " && (!has(object.spec.existingResourcePolicy) || object.spec.existingResourcePolicy == 'none'))"
        ),
        "messageExpression": (
            f"'a drill account restores only its own backups ({DRILL}-' + {_LOCATION} + '-<run>) into '"
            f" + '{DRILL}-scratch-' + {_LOCATION} + ', never updating what exists'"
        ),
    },
)


def applies(cluster: ClusterConfig) -> bool:
    return int(cluster.kubernetes_version.split(".")[1]) >= FIRST_MINOR


def manifests(factory: str, cluster: ClusterConfig) -> list[Manifest]:
    """The policy and its binding (always Deny: the platform's own account, not a line's enforcement choice)."""
    if not applies(cluster):
        return []
    labels = vocab.standard_labels(factory, component=COMPONENT)
    rule = {"apiGroups": ["velero.io"], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"]}
    policy: Manifest = {
        "apiVersion": API,
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": NAME, "labels": labels},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": [{**rule, "resources": ["backups", "restores"]}]},
            "matchConditions": [
                {"name": "drill-accounts", "expression": f"request.userInfo.username.startsWith('{ACCOUNT_PREFIX}')"}
            ],
            "variables": [
                {"name": "location", "expression": f"request.userInfo.username.substring({len(ACCOUNT_PREFIX)})"}
            ],
            "validations": [{**validation, "reason": "Forbidden"} for validation in VALIDATIONS],
        },
    }
    binding: Manifest = {
        "apiVersion": API,
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": NAME, "labels": labels},
        "spec": {
            "policyName": NAME,
            "validationActions": ["Deny"],
            "matchResources": {
                "namespaceSelector": {
                    "matchExpressions": [{"key": vocab.NAMESPACE_NAME, "operator": "In", "values": [velero.NAMESPACE]}]
                }
            },
        },
    }
    return [policy, binding]
