"""The Gatekeeper webhook probe: the install gate every other object on a cluster waits for.

Gatekeeper's webhooks judge every CREATE and UPDATE of every kind, cluster-scoped ones and Namespaces included,
everywhere but its own namespace; with `failurePolicy: Fail` the API server refuses whatever it cannot get an
answer for. On a first `pulumi up` a ValidatingWebhookConfiguration that exists before the controller answers
therefore refuses the lines' namespaces, the other charts' ClusterRoles and our own ConstraintTemplates ("no
endpoints available for service", "connection refused"), and the provider does not retry those (it retries only
NotFound and no-match errors: pulumi-kubernetes provider/pkg/await/await.go `Creation`).

Three steps close that window:
1. the chart's webhook configurations are created only after the controller Deployment is Available, and count
   as created only once the controller's certificate rotator has put its CA into them (`webhook_annotations`,
   read by the provider from the rendered objects);
2. a Deployment counts as Available when its pods are Ready, but Gatekeeper's readiness check is its tracker
   alone (pkg/readiness/setup.go), which is satisfied before the webhook server listens on a cluster without
   templates (gatekeeper#3776) — so this Job connects to the webhook Service until it has answered on every
   one of ten consecutive tries, each through the Service to whichever Ready pod it picks;
3. everything else on the cluster depends on this Job (the provider waits for a Job to complete and fails the
   update when it fails: await/job.go).

It is what the chart's own post-install probe does (a Helm hook, which a v4 Chart never runs), as a plain Job of
the catalogue's busybox: a TCP connect proves the server listens (it starts after its handlers are registered),
not that a TLS handshake succeeds.
"""

from __future__ import annotations

import hashlib

from components.catalogue.images import BUSYBOX, PINNED_PULL_POLICY
from components.catalogue.model import AddOn, ClusterContext, Manifest, Manifests
from components.catalogue.network import ClusterDns, NetworkNeeds, OwnPods, Path
from components.core import vocabulary as vocab
from components.core.kube import CHART_DEPENDS_ON, REPLACE_UNREADY, WAIT_FOR, chart_object_ref, restricted_security
from components.core.sizing import tool_resources

NAME = "gatekeeper-webhook-probe"
# the chart's fixed names (charts/gatekeeper/templates at 3.22.0), not derived from the release name
CONTROLLER_DEPLOYMENT = "gatekeeper-controller-manager"
WEBHOOK_SERVICE = "gatekeeper-webhook-service"
SERVICE_PORT = 443
PROBE_PODS = {vocab.NAME: NAME}
CONSECUTIVE = 10  # answers in a row, each through the Service to any Ready pod
TRIES = 120  # one a second: two minutes after the chart is done, then the Job fails
DEADLINE_SECONDS = 180
KEEP_SECONDS = 3600
UID = 65534  # busybox's `nobody`

SCRIPT = f"""\
set -u
WEBHOOK="$WEBHOOK_SERVICE"
ok=0
tries=0
while [ "$ok" -lt {CONSECUTIVE} ]; do
  tries=$((tries + 1))
  if nc -z -w 2 "$WEBHOOK" {SERVICE_PORT} 2>/dev/null; then
    ok=$((ok + 1))
  else
    ok=0
  fi
  if [ "$ok" -lt {CONSECUTIVE} ] && [ "$tries" -ge {TRIES} ]; then
    echo "FAIL the Gatekeeper webhook $WEBHOOK:{SERVICE_PORT}"
    echo "     did not answer {CONSECUTIVE} times in a row in $tries tries"
    echo "     (the API server refuses every object Gatekeeper cannot judge); see its controller-manager pods"
    exit 1
  fi
  [ "$ok" -lt {CONSECUTIVE} ] && sleep 1
done
echo "ok   the Gatekeeper webhook $WEBHOOK:{SERVICE_PORT} answered {CONSECUTIVE} times in a row after $tries tries"
"""


def webhook_service(namespace: str) -> str:
    return f"{WEBHOOK_SERVICE}.{namespace}.svc"


def webhook_annotations(namespace: str) -> dict[str, str]:
    """On the chart's webhook configurations: created after the controller Deployment is Available (the
    dependency is inside the chart, so the provider orders it), done once every webhook carries the CA."""
    return {
        CHART_DEPENDS_ON: chart_object_ref("apps", "Deployment", CONTROLLER_DEPLOYMENT, namespace),
        WAIT_FOR: "jsonpath={.webhooks[*].clientConfig.caBundle}",
    }


def _script_digest() -> str:
    return hashlib.sha256(SCRIPT.encode()).hexdigest()[:16]


def probe_job(ctx: ClusterContext, namespace: str, version: str) -> Manifest:
    pod_security, container_security = restricted_security(UID)
    sized = tool_resources("10m", "16Mi", "100m", "32Mi")
    labels = vocab.standard_labels(ctx.factory.factory.name, component=vocab.SECURITY_COMPONENT)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        # a failed probe is replaced by the next `pulumi up`, which probes again
        "metadata": {"name": NAME, "namespace": namespace, "labels": labels, "annotations": {REPLACE_UNREADY: "true"}},
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": DEADLINE_SECONDS,
            "ttlSecondsAfterFinished": KEEP_SECONDS,
            "template": {
                # a new Gatekeeper release (or probe) re-runs the probe after the chart's update
                "metadata": {
                    "labels": {**labels, **PROBE_PODS},
                    "annotations": {vocab.VERIFIES: f"gatekeeper {version} {_script_digest()}"},
                },
                "spec": {
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "restartPolicy": "Never",
                    "securityContext": pod_security,
                    "containers": [
                        {
                            "name": "probe",
                            "image": BUSYBOX.reference,  # the catalogue rewrites it to the site mirror
                            "imagePullPolicy": PINNED_PULL_POLICY,
                            "command": ["/bin/sh", "-c", SCRIPT],
                            "env": [{"name": "WEBHOOK_SERVICE", "value": webhook_service(namespace)}],
                            "resources": sized,
                            "securityContext": container_security,
                        }
                    ],
                },
            },
        },
    }


def network(controller_pods: dict[str, str], webhook_port: int) -> NetworkNeeds:
    return NetworkNeeds(
        (
            Path("dns", "egress", ClusterDns(), "resolves the webhook Service"),
            Path(
                "webhook",
                "egress",
                OwnPods(controller_pods),
                "connects to the controller's webhook server until it answers",
                ports=(webhook_port,),
                pods=PROBE_PODS,
            ),
        )
    )


def addon(namespace: str, version: str, controller_pods: dict[str, str], webhook_port: int) -> AddOn:
    return AddOn(
        name=NAME,
        namespace=namespace,
        version=version,  # Gatekeeper's: the probe belongs to its release
        source=Manifests(
            render=lambda ctx: [probe_job(ctx, namespace, version)], images=(BUSYBOX,), applied_last=frozenset({"Job"})
        ),
        exempt_because=(
            "The admission controller itself; Gatekeeper exempts its namespace so a bad constraint can never lock "
            "out the component that would fix it."
        ),
        namespace_labels={vocab.GATEKEEPER_IGNORE: vocab.GATEKEEPER_IGNORE_VALUE},
        network=lambda _ctx: network(controller_pods, webhook_port),
    )
