"""Kubernetes-audit detection on k3s/RKE2 (#9, Low): the falco-k8saudit release as the program registers it, the
API server's audit policy and webhook config `make plan` writes, and that the two ends meet — the API server
posts to the address the Service has, and records exactly the request bodies the rules read (never a
Secret's)."""

from __future__ import annotations

from typing import Any

import pytest

from components.config.loader import load_factory_config
from components.config.problems import FactoryConfigError
from components.security import k8saudit
from offline.harness import Recording
from tests.support.factories import mutate, secure_raw
from tests.support.runs import Runs, named

SERVICE_IP = "10.43.0.250"


def audited(raw: dict[str, Any]) -> dict[str, Any]:
    return mutate(raw, "security.falco", {"kubernetesAudit": {"serviceIp": SERVICE_IP}})


@pytest.fixture(scope="module")
def recording(runs: Runs) -> Recording:
    return runs.main(audited(secure_raw()))


@pytest.mark.parametrize(
    ("value", "fragment"), [("8.8.8.8", "a private address"), ("falco.local", "not an IP address")]
)
def test_the_service_address_is_validated(value: str, fragment: str) -> None:
    with pytest.raises(FactoryConfigError, match=r"security\.falco\.kubernetesAudit\.serviceIp") as caught:
        load_factory_config(mutate(secure_raw(), "security.falco", {"kubernetesAudit": {"serviceIp": value}}))
    assert fragment in str(caught.value)


def test_the_receiver_runs_on_k3s_and_rke2_only(recording: Recording, runs: Runs) -> None:
    assert named(recording, "testwerk-edge-baseline-falco-k8saudit").type == "kubernetes:helm.sh/v4:Chart"
    assert not [r for r in recording.resources if r.name == "testwerk-cloud-baseline-falco-k8saudit"]  # EKS
    assert not [r for r in runs.main(secure_raw()).resources if r.name.endswith("falco-k8saudit")]  # not asked for


def test_the_receiver_judges_audit_events_only_with_our_rules(recording: Recording) -> None:
    values = named(recording, "testwerk-edge-baseline-falco-k8saudit").inputs["values"]
    assert values["driver"]["enabled"] is False and values["collectors"]["enabled"] is False
    assert values["controller"] == {"kind": "deployment", "deployment": {"replicas": 1}}
    falco = values["falco"]
    assert falco["load_plugins"] == ["k8saudit", "json"] and falco["plugins_hostinfo"] is False
    assert falco["rules_files"] == ["/etc/falco/rules.d"]  # where customRules is mounted: no upstream ruleset
    assert values["customRules"] == {k8saudit.RULES_FILE: k8saudit.rules_text()}
    assert falco["http_output"] == {"enabled": True, "url": "http://falco-falcosidekick.falco.svc:2801/"}
    falcoctl = values["falcoctl"]
    assert falcoctl["artifact"]["follow"]["enabled"] is False
    assert falcoctl["config"]["indexes"] == [] and falcoctl["config"]["artifact"]["allowedTypes"] == ["plugin"]
    # air-gapped: the plugins come by full reference from the site mirror, the same ones the bundle lists
    refs = falcoctl["config"]["artifact"]["install"]["refs"]
    assert refs == [
        "harbor.plant.local/mirror/ghcr.io/falcosecurity/plugins/plugin/k8saudit:0.16.0",
        "harbor.plant.local/mirror/ghcr.io/falcosecurity/plugins/plugin/json:0.7.3",
    ]
    listed = [f"{a['registry']}/{a['repository']}:{a['tag']}" for a in values[k8saudit.ARTIFACTS_KEY].values()]
    assert sorted(listed) == sorted(refs)


def test_the_api_server_posts_where_the_receiver_listens(recording: Recording) -> None:
    values = named(recording, "testwerk-edge-baseline-falco-k8saudit").inputs["values"]
    [service] = values["services"]
    assert service["clusterIP"] == SERVICE_IP and service["ports"][0]["port"] == k8saudit.PORT
    [plugin] = [p for p in values["falco"]["plugins"] if p["name"] == "k8saudit"]
    config = load_factory_config(audited(secure_raw()))
    [cluster] = k8saudit.audit_webhook_config(config)["clusters"]
    assert cluster["cluster"]["server"] == f"http://{SERVICE_IP}:{k8saudit.PORT}{k8saudit.PATH}"
    assert plugin["open_params"] == f"http://:{k8saudit.PORT}{k8saudit.PATH}"


def test_only_the_api_server_may_post_audit_events(recording: Recording) -> None:
    policy = named(recording, "testwerk-edge-baseline-ns-falco-networkpolicy-falco-k8saudit-ingress-audit-events")
    spec = policy.inputs["spec"]
    assert spec["podSelector"] == {"matchLabels": k8saudit.PODS}
    [rule] = spec["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": k8saudit.PORT}]


def level(policy: dict[str, Any], request: tuple[str, str, str, str, str], groups: tuple[str, ...] = ()) -> str:
    """The level the API server records a resource request (user, verb, group, resource, namespace) of a user in
    `groups` at: the first rule that matches it (audit.k8s.io/v1 PolicyRule: a rule with nonResourceURLs matches
    no resource request; a GroupResources without `resources` covers the whole API group)."""
    user, verb, group, resource, namespace = request
    for rule in policy["rules"]:
        if "nonResourceURLs" in rule:
            continue
        if "users" in rule and user not in rule["users"]:
            continue
        if "userGroups" in rule and not set(groups) & set(rule["userGroups"]):
            continue
        if "verbs" in rule and verb not in rule["verbs"]:
            continue
        if "namespaces" in rule and namespace not in rule["namespaces"]:
            continue
        kinds = rule.get("resources")
        if kinds and not any(k["group"] == group and resource in k.get("resources", [resource]) for k in kinds):
            continue
        return str(rule["level"])
    return "None"


ALICE = "oidc:alice@plant.local"
TOKEN = "system:serviceaccount:line-mes:line-workload"


@pytest.mark.parametrize(
    ("request_", "cluster", "expected"),
    [
        # the rules read the Job's pod template and the Service's spec: their bodies are recorded...
        ((ALICE, "create", "batch", "jobs", "line-press"), "edge", "Request"),
        ((ALICE, "patch", "batch", "cronjobs", "line-weld"), "edge", "Request"),
        ((ALICE, "create", "", "services", "line-press"), "edge", "Request"),
        # ...a Secret's never, whoever writes it, and not a Job outside the lines
        ((ALICE, "create", "", "secrets", "line-press"), "edge", "Metadata"),
        (
            ("system:serviceaccount:external-secrets:external-secrets", "update", "", "secrets", "line-mes"),
            "cloud",
            "Metadata",
        ),
        ((ALICE, "create", "batch", "jobs", "kube-system"), "edge", "Metadata"),
        # who granted what, with the grant
        ((ALICE, "create", "rbac.authorization.k8s.io", "clusterrolebindings", ""), "edge", "Request"),
        ((ALICE, "delete", "rbac.authorization.k8s.io", "roles", "line-press"), "edge", "Request"),
        # every use of a line's identity token, and every other request, by its metadata (the trail)
        ((TOKEN, "get", "", "pods", "line-mes"), "cloud", "Metadata"),
        (("system:kube-controller-manager", "get", "", "pods", "line-press"), "edge", "Metadata"),
        ((ALICE, "list", "apps", "deployments", "line-weld"), "edge", "Metadata"),
        # never the platform's own heartbeat
        (("system:kube-scheduler", "update", "coordination.k8s.io", "leases", "kube-system"), "edge", "None"),
        ((ALICE, "create", "", "events", "line-press"), "edge", "None"),
    ],
)
def test_the_policy_records_what_the_rules_read_and_no_secret(
    request_: tuple[str, str, str, str, str], cluster: str, expected: str
) -> None:
    config = load_factory_config(audited(secure_raw()))
    policy = k8saudit.audit_policy(config, config.cluster(cluster))
    assert policy["omitStages"] == ["RequestReceived"]
    assert level(policy, request_) == expected


def test_the_nodes_heartbeat_stays_out_of_the_trail_but_their_secret_reads_do_not() -> None:
    config = load_factory_config(audited(secure_raw()))
    policy = k8saudit.audit_policy(config, config.cluster("edge"))
    node = ("system:node:edge-1", "patch", "", "nodes/status", "")
    assert level(policy, node, groups=("system:nodes",)) == "None"
    assert level(policy, node) == "Metadata", "the exemption holds for the nodes' group only"
    secret = ("system:node:edge-1", "get", "", "secrets", "line-press")
    assert level(policy, secret, groups=("system:nodes",)) == "Metadata"
    assert policy["rules"][0] == {"level": "None", "nonResourceURLs": list(k8saudit.HEALTH)}


def test_the_server_flags_per_distribution() -> None:
    config = load_factory_config(audited(secure_raw()))
    edge = k8saudit.server_flags(config, config.cluster("edge"))
    assert edge == {
        "kube-apiserver-arg": [
            "audit-policy-file=/var/lib/rancher/k3s/server/factory-floor-audit-policy.yaml",
            "audit-log-path=/var/lib/rancher/k3s/server/logs/audit.log",
            "audit-log-maxage=30",
            "audit-log-maxbackup=10",
            "audit-log-maxsize=100",
            "audit-webhook-config-file=/var/lib/rancher/k3s/server/factory-floor-audit-webhook.yaml",
            "audit-webhook-batch-max-wait=5s",
        ]
    }
    assert k8saudit.server_flags(config, config.cluster("cloud")) == {}  # EKS: its audit log is CloudWatch's
    rke2 = mutate(audited(secure_raw()), "clusters.0.distribution", "rke2")
    flags = k8saudit.server_flags(load_factory_config(rke2), load_factory_config(rke2).cluster("edge"))
    webhook = "/etc/rancher/rke2/factory-floor-audit-webhook.yaml"
    assert flags["audit-policy-file"] == "/etc/rancher/rke2/factory-floor-audit-policy.yaml"
    assert flags["kube-apiserver-extra-mount"] == [f"{webhook}:{webhook}:ro"]  # the API server is a static pod
    # without Falco's receiver the trail is still kept, on the server's disk, as long as the stack says
    kept = load_factory_config(mutate(secure_raw(), "observability.audit", {"retentionDays": 90}))
    assert k8saudit.server_flags(kept, kept.cluster("edge")) == {
        "kube-apiserver-arg": [
            "audit-policy-file=/var/lib/rancher/k3s/server/factory-floor-audit-policy.yaml",
            "audit-log-path=/var/lib/rancher/k3s/server/logs/audit.log",
            "audit-log-maxage=90",
            "audit-log-maxbackup=10",
            "audit-log-maxsize=100",
        ]
    }
    plain_rke2 = load_factory_config(mutate(secure_raw(), "clusters.0.distribution", "rke2"))
    assert "kube-apiserver-extra-mount" not in k8saudit.server_flags(plain_rke2, plain_rke2.cluster("edge"))
