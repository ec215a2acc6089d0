"""The segmentation canary: proof, on the cluster, that NetworkPolicy is enforced — a rollout gate.

`clusters[].networkPolicy` only says what should enforce the lines' NetworkPolicies; the plan can only judge
that they exist. The canary makes the cluster show it: two zones shaped like lines (the default-deny and DNS
policies a line gets, from components/core/network_policy.py, and one conduit between them), a tiny listener
in one, and in the other a Job that must reach only what its policies allow.

- `segmentation-canary-b` (add-on `segmentation-canary-listener`): a busybox listener on three ports behind a
  ClusterIP Service. Its zone admits the probing zone on 8080 and 8082, not on 8081.
- `segmentation-canary-a` (add-on `segmentation-canary`): its zone may send to the listener on 8080 and 8081,
  not on 8082; the cluster-wide metadata deny where the CNI has one (cluster_wide.py); and the Job, applied
  last — after its own zone's policies and the cluster-wide deny, and after the listener's Deployment, Service
  and policies (`install(..., gated_on=...)`).

The Job succeeds only if (1) the positive control holds: DNS resolves the listener and the conduit both zones
allow carries a connection (without it every check below would pass on a pod with no network at all); (2) the
egress-closed port 8082 turns unreachable within 30 s — a new pod can be unfiltered for a moment (a policy
controller may program it only after it started; the AWS agent's standard mode says so), so this waits for this
pod's own egress rules to be in place; (3) then each forbidden target is unreachable: the listener on 8081 (ingress
enforced) and 8082 (egress enforced), the API server (`kubernetes.default.svc` at the ClusterIP the kubelet
puts in every pod's environment, so a DNS failure cannot fake a pass), 169.254.169.254:80 and
[fd00:ec2::254]:80. Otherwise it exits 1 and names what it reached.

A gate: Pulumi's Kubernetes provider waits for a `batch/v1` Job to complete and fails the resource — so the
update — when the Job's `Failed` condition is set (pulumi-kubernetes provider/pkg/await/awaiters.go maps
`batch/v1/Job` to `jobAwaiter`; await/job.go: ready when `Complete`, "If this condition [Failed] is set, we
should fail the Job immediately", 10 min default timeout; the same in the registry's `kubernetes.batch/v1.Job`
reference). `backoffLimit: 0` and `activeDeadlineSeconds` make a failure final within minutes.

When it proves: a Job's pod template is immutable, and the provider replaces a Job when `.spec.template`
changes (provider/pkg/provider/diff.go lists it as force-new for batch/v1 Job; the same name means delete, then
create). The template carries a digest of everything the canary tests — both zones' objects, the cluster-wide
deny (where there is one, so every added line), the image, the script, and the cluster's distribution,
NetworkPolicy implementation and Kubernetes minor — so any change to what it verifies re-runs it on the next
`pulumi up`; an unchanged stack does not re-run it (`pulumi up --replace <urn>` does). After a failure
`pulumi.com/replaceUnready` makes the next `pulumi up` replace the failed Job, so fixing the CNI and running
`pulumi up` proves again. `ttlSecondsAfterFinished` keeps the finished Job a day (its log says what it
reached); afterwards `pulumi up --refresh` finds it gone and runs it again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from components.catalogue.images import BUSYBOX, PINNED_PULL_POLICY
from components.catalogue.model import AddOn, ClusterContext, Manifest, Manifests
from components.core import kube
from components.core import vocabulary as vocab
from components.core.kube import restricted_security
from components.core.network_policy import (
    ALLOW_DNS,
    DEFAULT_DENY,
    allow_dns,
    default_deny,
    namespace_peer,
    network_policy,
)
from components.core.sizing import tool_resources
from components.verification.cluster_wide import METADATA_V4, METADATA_V6, metadata_deny

IMAGE = BUSYBOX
VERSION = IMAGE.tag
COMPONENT = "verification"  # value of app.kubernetes.io/component on everything this capability makes
PROBE_NAMESPACE = "segmentation-canary-a"  # the zone under test: where the Job runs, shaped like a line
TARGET_NAMESPACE = "segmentation-canary-b"  # another zone: the listener the Job may reach only by its conduit
CANARY = "segmentation-canary"
LISTENER_ADDON = "segmentation-canary-listener"
LISTENER = "listener"  # Deployment and Service in the target zone
LISTENER_HOST = f"{LISTENER}.{TARGET_NAMESPACE}.svc"
CONDUIT_PORT = 8080  # both zones allow it: the positive control
INGRESS_CLOSED_PORT = 8081  # the probing zone may send, the target zone does not admit: ingress enforced
EGRESS_CLOSED_PORT = 8082  # the target zone would admit, the probing zone may not send: egress enforced
PORTS = {"conduit": CONDUIT_PORT, "ingress-closed": INGRESS_CLOSED_PORT, "egress-closed": EGRESS_CLOSED_PORT}
# everything the canary tests, as a digest on the Job's pod template: a change replaces (re-runs) the Job
VERIFIES = vocab.VERIFIES
# after a failed run the next `pulumi up` replaces the Job instead of waiting on the failed one again
REPLACE_UNREADY = kube.REPLACE_UNREADY
DEADLINE_SECONDS = 180  # pod start, image pull, at most ~100 s of checks
KEEP_SECONDS = 86400  # the finished Job and its log stay a day
UID = 65534  # busybox's `nobody`

POD_SECURITY, CONTAINER_SECURITY = restricted_security(UID)

# One listener per port; `-lk -e true` accepts every connection and closes it at once. `exec` leaves nc as the
# container's first process, so the pod stops on SIGTERM.
LISTEN = (
    f"nc -lk -p {INGRESS_CLOSED_PORT} -e true & nc -lk -p {EGRESS_CLOSED_PORT} -e true & "
    f"exec nc -lk -p {CONDUIT_PORT} -e true"
)
# Ready (and alive) while all three ports accept, judged inside the pod: a probe from the node would depend on
# how the CNI treats node-to-pod traffic, which is not what the canary is about.
LISTENING = " && ".join(f"nc -z -w 1 127.0.0.1 {port}" for port in PORTS.values())

SCRIPT = f"""\
set -u
W=3
LISTENER={LISTENER_HOST}
: "${{KUBERNETES_SERVICE_HOST:?is not set; the kubelet sets it in every pod}}"
echo "segmentation canary: proving that $NETWORK_POLICY enforces NetworkPolicy on this cluster"

# 1. positive control: DNS resolves the listener and the conduit both zones allow carries a connection;
#    without it every check below would pass on a pod that has no network at all
tries=0
until nc -z -w "$W" "$LISTENER" {CONDUIT_PORT} 2>/dev/null; do
  tries=$((tries + 1))
  if [ "$tries" -ge 10 ]; then
    echo "FAIL positive control: no connection to $LISTENER:{CONDUIT_PORT} (the conduit both zones allow)"
    echo "     in $tries tries; this pod has no working DNS or network, so nothing below would prove anything"
    nslookup "$LISTENER" 2>&1 || true
    exit 1
  fi
  sleep 2
done
echo "ok   positive control: $LISTENER resolved and reached on {CONDUIT_PORT}, the conduit both zones allow"

# 2. a new pod may be unfiltered for a moment: wait until this pod's own egress rules close {EGRESS_CLOSED_PORT}
#    (the listener's zone admits it, this zone's default-deny does not let it out)
tries=0
while nc -z -w "$W" "$LISTENER" {EGRESS_CLOSED_PORT} 2>/dev/null; do
  tries=$((tries + 1))
  if [ "$tries" -ge 15 ]; then
    echo "FAIL egress not enforced: $LISTENER:{EGRESS_CLOSED_PORT} stayed reachable for 15 tries over 30 s or more,"
    echo "     although this zone's NetworkPolicies allow no egress to it"
    exit 1
  fi
  sleep 2
done

# 3. what a line must never reach
failed=0
forbidden() {{  # forbidden WHAT HOST PORT
  out=$(nc -v -z -w "$W" "$2" "$3" 2>&1)
  status=$?
  case "$out" in
    *"bad address"*)
      echo "FAIL $1: $2 did not resolve, so this check proves nothing ($out)"
      failed=1 ;;
    *)
      if [ "$status" -eq 0 ]; then
        echo "FAIL $1: reached $2 port $3 ($out)"
        failed=1
      else
        echo "ok   $1: $2 port $3 unreachable"
      fi ;;
  esac
}}
forbidden "another zone, a port its ingress does not admit" "$LISTENER" {INGRESS_CLOSED_PORT}
forbidden "another zone, a port this zone's egress does not allow" "$LISTENER" {EGRESS_CLOSED_PORT}
forbidden "the API server (kubernetes.default.svc)" "$KUBERNETES_SERVICE_HOST" "$KUBERNETES_SERVICE_PORT"
forbidden "the instance metadata service (IPv4)" {METADATA_V4} 80
forbidden "the instance metadata service (IPv6)" {METADATA_V6} 80
if [ "$failed" -ne 0 ]; then
  echo "segmentation is NOT enforced on this cluster: a line would reach what FAIL names above"
  exit 1
fi
echo "segmentation enforced: default-deny holds in both directions and only the declared conduit is open"
"""


def labels(ctx: ClusterContext) -> dict[str, str]:
    return vocab.standard_labels(ctx.factory.factory.name, component=COMPONENT)


def _metadata(ctx: ClusterContext, name: str, namespace: str) -> Manifest:
    return {"name": name, "namespace": namespace, "labels": labels(ctx)}


def _conduit_ports(*ports: int) -> list[Manifest]:
    return [{"protocol": "TCP", "port": port} for port in ports]


def zone_policies(ctx: ClusterContext, namespace: str) -> list[Manifest]:
    """What every line's zone starts with: default deny both ways, and DNS."""
    return [
        network_policy(_metadata(ctx, DEFAULT_DENY, namespace), default_deny()),
        network_policy(_metadata(ctx, ALLOW_DNS, namespace), allow_dns()),
    ]


def conduit_out(ctx: ClusterContext) -> Manifest:
    """The probing zone's side of its one conduit, named as a line's is (`flow-to-<zone>-tcp`)."""
    body = {
        "policyTypes": ["Egress"],
        "egress": [
            {"to": [namespace_peer(TARGET_NAMESPACE)], "ports": _conduit_ports(CONDUIT_PORT, INGRESS_CLOSED_PORT)}
        ],
    }
    return network_policy(_metadata(ctx, f"flow-to-{TARGET_NAMESPACE}-tcp", PROBE_NAMESPACE), body)


def conduit_in(ctx: ClusterContext) -> Manifest:
    """The listener's side of the conduit (`flow-from-<zone>-tcp`)."""
    body = {
        "policyTypes": ["Ingress"],
        "ingress": [
            {"from": [namespace_peer(PROBE_NAMESPACE)], "ports": _conduit_ports(CONDUIT_PORT, EGRESS_CLOSED_PORT)}
        ],
    }
    return network_policy(_metadata(ctx, f"flow-from-{PROBE_NAMESPACE}-tcp", TARGET_NAMESPACE), body)


def _pod_labels(ctx: ClusterContext, app: str) -> dict[str, str]:
    return {**labels(ctx), vocab.NAME: app}


def _container(name: str, command: list[str], requests: tuple[str, str], limits: tuple[str, str]) -> Manifest:
    sized = tool_resources(requests[0], requests[1], limits[0], limits[1])
    return {
        "name": name,
        "image": IMAGE.reference,  # the catalogue rewrites it to the site mirror
        "imagePullPolicy": PINNED_PULL_POLICY,  # digest-pinned: a node that has it never asks the registry again
        "command": command,
        "resources": sized,
        "securityContext": dict(CONTAINER_SECURITY),
    }


def _pod_spec(containers: list[Manifest], **extra: object) -> Manifest:
    return {
        # no API token on disk, and no other Services' addresses in the environment (the kubelet still sets
        # KUBERNETES_SERVICE_HOST/PORT, which the canary probes)
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": dict(POD_SECURITY),
        **extra,
        "containers": containers,
    }


def listener_deployment(ctx: ClusterContext) -> Manifest:
    probe = {"exec": {"command": ["/bin/sh", "-c", LISTENING]}, "periodSeconds": 10, "timeoutSeconds": 5}
    container = _container(LISTENER, ["/bin/sh", "-c", LISTEN], ("5m", "8Mi"), ("50m", "32Mi"))
    container["ports"] = [{"name": name, "containerPort": port, "protocol": "TCP"} for name, port in PORTS.items()]
    container["readinessProbe"] = probe
    container["livenessProbe"] = {**probe, "initialDelaySeconds": 5}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(ctx, LISTENER, TARGET_NAMESPACE),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {vocab.NAME: LISTENER_ADDON}},
            "template": {
                "metadata": {"labels": _pod_labels(ctx, LISTENER_ADDON)},
                "spec": _pod_spec([container], terminationGracePeriodSeconds=5),
            },
        },
    }


def listener_service(ctx: ClusterContext) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(ctx, LISTENER, TARGET_NAMESPACE),
        "spec": {
            "type": "ClusterIP",
            "selector": {vocab.NAME: LISTENER_ADDON},
            "ports": [
                {"name": name, "port": port, "targetPort": name, "protocol": "TCP"} for name, port in PORTS.items()
            ],
        },
    }


def listener_manifests(ctx: ClusterContext) -> list[Manifest]:
    return [*zone_policies(ctx, TARGET_NAMESPACE), conduit_in(ctx), listener_deployment(ctx), listener_service(ctx)]


def tested_manifests(ctx: ClusterContext) -> list[Manifest]:
    """The probing zone's own objects the Job tests: its policies and the cluster-wide deny."""
    return [*zone_policies(ctx, PROBE_NAMESPACE), conduit_out(ctx), *metadata_deny(ctx, PROBE_NAMESPACE, labels(ctx))]


def verifies(ctx: ClusterContext) -> str:
    """A digest of everything a run of the canary proves something about: a new value re-runs it."""
    cluster = ctx.cluster
    subject: Mapping[str, object] = {
        "distribution": cluster.distribution,
        "networkPolicy": cluster.network_policy_enforcer,
        "kubernetesVersion": cluster.kubernetes_version,
        "image": IMAGE.reference,
        "script": SCRIPT,
        "objects": [*listener_manifests(ctx), *tested_manifests(ctx)],
    }
    return hashlib.sha256(json.dumps(subject, sort_keys=True).encode()).hexdigest()[:16]


def canary_job(ctx: ClusterContext) -> Manifest:
    container = _container("canary", ["/bin/sh", "-c", SCRIPT], ("10m", "16Mi"), ("100m", "32Mi"))
    container["env"] = [{"name": "NETWORK_POLICY", "value": str(ctx.cluster.network_policy_enforcer)}]
    metadata = _metadata(ctx, CANARY, PROBE_NAMESPACE)
    metadata["annotations"] = {REPLACE_UNREADY: "true"}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": DEADLINE_SECONDS,
            "ttlSecondsAfterFinished": KEEP_SECONDS,
            "template": {
                "metadata": {"labels": _pod_labels(ctx, CANARY), "annotations": {VERIFIES: verifies(ctx)}},
                "spec": _pod_spec([container], restartPolicy="Never"),
            },
        },
    }


def canary_manifests(ctx: ClusterContext) -> list[Manifest]:
    return [*tested_manifests(ctx), canary_job(ctx)]


_WHY = "a catalogue add-on (pinned busybox), not judged against the lines' allow-list."
LISTENER_ENTRY = AddOn(
    name=LISTENER_ADDON,
    namespace=TARGET_NAMESPACE,
    version=VERSION,
    source=Manifests(render=listener_manifests, images=(IMAGE,)),
    exempt_because=(
        "The segmentation canary's second zone: a listener the canary Job may reach only through its one "
        f"conduit; {_WHY}"
    ),
)
CANARY_ENTRY = AddOn(
    name=CANARY,
    namespace=PROBE_NAMESPACE,
    version=VERSION,
    source=Manifests(render=canary_manifests, images=(IMAGE,), applied_last=frozenset({"Job"})),
    exempt_because=(
        "The segmentation canary: a zone shaped like a line whose Job proves, after every change, that the "
        f"cluster enforces NetworkPolicy; {_WHY}"
    ),
)
