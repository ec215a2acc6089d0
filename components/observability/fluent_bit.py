"""Fluent Bit on every node (chart 0.58.1): the pods' logs and, on k3s/RKE2 servers, the API server's audit trail
(security/k8saudit.py writes it to AUDIT_LOG), into the cluster's Loki (loki.py) or, on a cell without one, the
hub's (`observability.hub.loki`). A cell with neither runs no Fluent Bit: its logs stay on its nodes.

It reads /var/log (the pods' logs, 0640 root) and the audit directory from the host, read-only, as root with no
capabilities; its read positions, and the chunks it could not deliver yet, live in /var/lib/fluent-bit on the host,
so neither a restart nor a store (or uplink) down for hours loses or repeats lines (up to BUFFER_LIMIT per output).
hostPath volumes are beyond baseline: its own privileged namespace.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from components.catalogue.images import PINNED_PULL_POLICY, Image
from components.catalogue.model import (
    AddOn,
    BroughtResource,
    Chart,
    ChartArchive,
    ClusterContext,
    ImageSlot,
    PodSecurity,
    Values,
    WorkloadSlot,
)
from components.catalogue.network import ApiServer, ClusterDns, External, Namespace, NetworkNeeds, Path
from components.catalogue.rbac import ClusterRoleGrant, RbacReview
from components.catalogue.secrets import AddonSecret
from components.core import vocabulary as vocab
from components.core.contracts import AUDIT_LOG, MONITORING_NAMESPACE
from components.observability import hub, loki
from components.observability import network as net
from components.observability.sizing import stack_size

NAME = "fluent-bit"
NAMESPACE = net.FLUENT_BIT_NAMESPACE
VERSION = "0.58.1"
METRICS_PORT = net.FLUENT_BIT_PORT
STATE = "/var/lib/fluent-bit"  # read positions, on the host
HUB_SECRET = "fluent-bit-hub"  # the hub's bearer token, key `token`, as the environment variable HUB_TOKEN
HTTPS = 443
BUFFER_LIMIT = "1G"  # per output, of the node's disk, while the store is unreachable


def service_monitor(ctx: ClusterContext) -> list[BroughtResource]:
    """Scrape each Fluent Bit on its metrics port (the chart's Service, port `http`)."""
    selector = {vocab.NAME: NAME, vocab.INSTANCE: NAME}
    manifest = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {
            "name": NAME,
            "namespace": NAMESPACE,
            "labels": vocab.standard_labels(ctx.factory.factory.name, component="observability"),
        },
        "spec": {
            "selector": {"matchLabels": selector},
            "endpoints": [{"port": "http", "path": "/api/v2/metrics/prometheus", "interval": "30s"}],
        },
    }
    return [BroughtResource("servicemonitor", manifest, "servicemonitors.monitoring.coreos.com")]


IMAGE = Image(
    "docker.io",
    "fluent/fluent-bit",
    "5.1.1",
    "sha256:a941bdd5ca552b2c6597fc7b3bccf2e61d30873939bab5700963de0e94ac6169",
    source=(
        "one public Dockerfile pins docker.io/fluent/fluent-bit:5.1.1 at this digest with a Renovate comment (Docker "
        "Hub, the registry named here rather than the chart's cr.fluentbit.io); a single source: verify with "
        "`make pin-digests` first."
    ),
)


def _hub(ctx: ClusterContext) -> str | None:
    """The hub's Loki when this cluster has no log store of its own."""
    return None if loki.enabled(ctx) else ctx.factory.observability.hub.loki


def enabled(ctx: ClusterContext) -> bool:
    return net.log_shipping(ctx)


def _token(ctx: ClusterContext) -> AddonSecret | None:
    return hub.token_secret(ctx, NAME, NAMESPACE, HUB_SECRET, sends=_hub(ctx) is not None)


def secrets(ctx: ClusterContext) -> tuple[AddonSecret, ...]:
    return tuple(secret for secret in [_token(ctx)] if secret is not None)


def audit_log(ctx: ClusterContext) -> str | None:
    return AUDIT_LOG.get(ctx.cluster.distribution)


def _output(ctx: ClusterContext, match: str, labels: str) -> str:
    common = f"factory={ctx.factory.factory.name}, cluster={ctx.cluster.name}"
    hub = _hub(ctx)
    if hub is None:
        where = [f"Host {net.LOKI_HOST}", f"Port {net.LOKI_PORT}"]
    else:
        url = urlsplit(hub)
        # the token goes to this host only: without the hostname check any publicly trusted certificate would do
        where = [
            f"Host {url.hostname}",
            f"Port {url.port or HTTPS}",
            "tls On",
            "tls.verify On",
            "tls.verify_hostname On",
        ]
        if _token(ctx) is not None:
            where.append("Bearer_Token ${HUB_TOKEN}")
    lines = [
        "[OUTPUT]",
        "Name loki",
        f"Match {match}",
        *where,
        f"Labels {common}, {labels}",
        "Line_Format json",
        # a cell's uplink may be down for a shift: keep retrying from the node's disk, up to a bound
        "Retry_Limit no_limits",
        f"storage.total_limit_size {BUFFER_LIMIT}",
    ]
    return lines[0] + "\n" + "\n".join(f"    {line}" for line in lines[1:]) + "\n"


def _section(name: str, settings: list[str]) -> str:
    return f"[{name}]\n" + "\n".join(f"    {line}" for line in settings) + "\n"


def config(ctx: ClusterContext) -> dict[str, str]:
    """The chart's `config` sections: inputs, filters and outputs (its [SERVICE] stays as it renders it)."""
    inputs = [
        _section(
            "INPUT",
            [
                "Name tail",
                "Path /var/log/containers/*.log",
                "multiline.parser docker, cri",
                "Tag kube.*",
                f"DB {STATE}/kube.db",
                "Mem_Buf_Limit 5MB",
                "Skip_Long_Lines On",
                "storage.type filesystem",
            ],
        )
    ]
    outputs = [
        _output(
            ctx,
            "kube.*",
            "job=fluent-bit, namespace=$kubernetes['namespace_name'], pod=$kubernetes['pod_name'], "
            "container=$kubernetes['container_name']",
        )
    ]
    audit = audit_log(ctx)
    if audit is not None:
        # one JSON event per line; only servers have the file, the other nodes tail nothing
        inputs.append(
            _section(
                "INPUT",
                [
                    "Name tail",
                    f"Path {audit}",
                    "Parser json",
                    "Tag audit.*",
                    f"DB {STATE}/audit.db",
                    "Mem_Buf_Limit 5MB",
                    # an event with a request body can pass the 32 KiB default; one line too long would stop the
                    # tail of this file for good, so such a line is skipped (and counted) instead
                    "Buffer_Chunk_Size 64k",
                    "Buffer_Max_Size 1M",
                    "Skip_Long_Lines On",
                    "storage.type filesystem",
                ],
            )
        )
        outputs.append(_output(ctx, "audit.*", f"job={loki.AUDIT_JOB}, node=${{NODE_NAME}}"))
    kubernetes = _section(
        "FILTER",
        [
            "Name kubernetes",
            "Match kube.*",
            # a pod's own JSON goes under its own key: at the top level it could overwrite `kubernetes` and choose
            # the namespace and pod its lines are filed under
            "Merge_Log On",
            "Merge_Log_Key log_processed",
            "Keep_Log Off",
            "K8S-Logging.Parser On",
            # no pod may hide its own logs with an annotation
            "K8S-Logging.Exclude Off",
        ],
    )
    service = _section(
        "SERVICE",
        [
            "Daemon Off",
            "Flush 1",
            "Log_Level info",
            "Parsers_File /fluent-bit/etc/parsers.conf",
            "Parsers_File /fluent-bit/etc/conf/custom_parsers.conf",
            "HTTP_Server On",
            "HTTP_Listen 0.0.0.0",
            f"HTTP_Port {METRICS_PORT}",
            "Health_Check On",
            # chunks wait on the node's disk while the store is unreachable, and survive a restart
            f"storage.path {STATE}/buffer",
            "storage.sync normal",
            "storage.backlog.mem_limit 5M",
        ],
    )
    return {
        "service": service,
        "inputs": "\n".join(inputs),
        "filters": kubernetes,
        "outputs": "\n".join(outputs),
    }


def _volumes(ctx: ClusterContext) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    volumes: list[dict[str, object]] = [
        {"name": "varlog", "hostPath": {"path": "/var/log"}},
        {"name": "state", "hostPath": {"path": STATE, "type": "DirectoryOrCreate"}},
    ]
    mounts: list[dict[str, object]] = [
        {"name": "varlog", "mountPath": "/var/log", "readOnly": True},
        {"name": "state", "mountPath": STATE},
    ]
    audit = audit_log(ctx)
    if audit is not None:
        directory = audit.rsplit("/", 1)[0]
        volumes.append({"name": "audit", "hostPath": {"path": directory, "type": "DirectoryOrCreate"}})
        mounts.append({"name": "audit", "mountPath": directory, "readOnly": True})
    return volumes, mounts


def values(ctx: ClusterContext) -> Values:
    volumes, mounts = _volumes(ctx)
    result: Values = {
        "image": {
            "repository": IMAGE.name,
            "tag": IMAGE.tag,
            "digest": IMAGE.digest,
            "pullPolicy": PINNED_PULL_POLICY,
        },
        "testFramework": {"enabled": False},
        "resources": stack_size(ctx.cluster.profile).fluent_bit,
        "config": config(ctx),
        "daemonSetVolumes": volumes,
        "daemonSetVolumeMounts": mounts,
        "env": [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
        "podSecurityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "securityContext": {
            "runAsUser": 0,  # the pods' log files are root's, mode 0640
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
        "tolerations": [{"operator": "Exists"}],  # every node's logs, servers' included
        # the chart renders its ServiceMonitor only if the cluster already serves the kind when the chart is
        # rendered, which a first `up` (creating the CRDs in the same run) never does: we bring our own
        "serviceMonitor": {"enabled": False},
    }
    if _token(ctx) is not None:
        result["env"].append(
            {"name": "HUB_TOKEN", "valueFrom": {"secretKeyRef": {"name": HUB_SECRET, "key": hub.TOKEN_KEY}}}
        )
    return result


def network(ctx: ClusterContext) -> NetworkNeeds:
    hub = _hub(ctx)
    target = (
        Path("hub-loki", "egress", External("the hub's Loki", (urlsplit(hub).port or HTTPS,)), "log pushes")
        if hub is not None
        else Path("loki", "egress", Namespace(loki.NAMESPACE, net.LOKI_PODS), "log pushes", (loki.HTTP_PORT,))
    )
    prometheus = Namespace(MONITORING_NAMESPACE, net.PROMETHEUS_PODS)
    return NetworkNeeds(
        (
            Path("dns", "egress", ClusterDns(), "resolves the log store"),
            Path("api-server", "egress", ApiServer(), "names each log line's pod (kubernetes filter)"),
            target,
            Path("from-prometheus", "ingress", prometheus, "scraped", (METRICS_PORT,)),
        )
    )


ADDON = AddOn(
    name=NAME,
    namespace=NAMESPACE,
    version=VERSION,
    source=Chart(
        chart="fluent-bit",
        repository="https://fluent.github.io/helm-charts",
        archive=ChartArchive(
            "https://github.com/fluent/helm-charts/releases/download/fluent-bit-0.58.1/fluent-bit-0.58.1.tgz",
            "fc2235278cdb4e76befb8520464a66ff459c6d7711bbbc8755dedcc32799877b",
            source="fluent/helm-charts index.yaml on gh-pages (head 26ab9954), entry fluent-bit 0.58.1",
        ),
        values=values,
        images=(
            ImageSlot(
                repository_key="image.repository",
                tag_key="image.tag",
                digest_key="image.digest",
                image=IMAGE,
                pull_policy_key="image.pullPolicy",
            ),
        ),
        workloads=(WorkloadSlot("fluent-bit", "resources", per_node=True),),
    ),
    network=network,
    secrets=secrets,
    brings=service_monitor,
    rbac=RbacReview(
        VERSION,
        (
            ClusterRoleGrant(
                "fluent-bit",
                (),
                "get/list/watch namespaces and pods: the kubernetes filter names each log line's pod and namespace.",
            ),
        ),
        narrowed="nodeAccess and eventsAccess off: no nodes/proxy, no events.",
    ),
    pod_security=PodSecurity(
        "privileged",
        "Fluent Bit reads every pod's log files and the API server's audit trail from the node (read-only hostPath "
        "mounts of /var/log and the audit directory) and keeps its read positions in /var/lib/fluent-bit on the "
        "host; hostPath is beyond baseline. It runs as root (the log files are root's, 0640) with no capabilities, "
        "no privilege escalation and a read-only root file system.",
    ),
    enabled=enabled,
)
