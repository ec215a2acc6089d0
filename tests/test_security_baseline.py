"""The security baseline under mocks: catalogue pinning and mirrors, ordering, identities, bundle, footprint."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from components import catalogue
from components.addons import CATALOGUE
from components.catalogue import ClusterContext, ImageSlot, get_path, mirrored, resolve
from components.config import FactoryConfigError, load_factory_config
from components.footprint import quantity
from offline import bundle, harness
from offline.harness import Recording, Registration
from offline.plan import plan
from offline.render import redact
from tests.factories import mutate, pulumi_config, valid_raw

ROOT = Path(__file__).resolve().parent.parent
CHART = "kubernetes:helm.sh/v4:Chart"
MIRROR = "harbor.plant.local/mirror"
AWS = {"accountId": "123456789012", "region": "eu-central-1", "oidcIssuer": "https://oidc.eks.example.com/id/ABC"}
GCP = {"project": "plant-analytics"}
AZURE = {
    "subscriptionId": "00000000-0000-4000-8000-000000000001",
    "tenantId": "00000000-0000-4000-8000-000000000002",
    "resourceGroup": "rg-plant",
    "location": "westeurope",
    "oidcIssuer": "https://westeurope.oic.prod-aks.azure.com/tenant/issuer/",
}


def secure_raw(cloud: str = "aws", identity: dict[str, Any] | None = None, mirror: bool = True) -> dict[str, Any]:
    raw = valid_raw()
    distribution = {"aws": "eks", "gcp": "gke", "azure": "aks"}[cloud]
    raw = mutate(raw, "clusters.1.distribution", distribution)
    raw = mutate(
        raw, "clusters.1.workloadIdentity", {cloud: identity or {"aws": AWS, "gcp": GCP, "azure": AZURE}[cloud]}
    )
    raw["security"] = {
        "gatekeeper": {"allowedImages": ["registry.plant.local/*"], "enforcementAction": "dryrun"},
        "vault": {"server": "https://vault.plant.local:8200", "path": "plant"},
    }
    raw = mutate(raw, "lines.2.secrets", [{"name": "db", "remoteKey": "mes/db", "properties": ["user", "password"]}])
    if mirror:
        raw["site"] = {"registryMirror": MIRROR, "chartMirror": "oci://harbor.plant.local/charts"}
    return raw


def run(raw: dict[str, Any]) -> Recording:
    config, secrets = pulumi_config(raw)
    return harness.run(
        harness.main_program(ROOT), project="factory-floor", stack="t", config=config, secret_keys=secrets
    )


@pytest.fixture(scope="module")
def recording() -> Recording:
    return run(secure_raw())


def named(recording: Recording, suffix: str) -> Registration:
    found = [r for r in recording.resources if r.name.endswith(suffix)]
    assert len(found) == 1, (suffix, [r.name for r in found])
    return found[0]


# --- catalogue ------------------------------------------------------------------------------------------


def test_every_chart_is_pinned_to_an_exact_version() -> None:
    for addon in CATALOGUE.values():
        assert re.fullmatch(r"\d+\.\d+\.\d+", addon.version), addon.name
        assert addon.repository.startswith("https://"), addon.name


def test_every_image_in_chart_values_is_pinned_and_named_by_a_slot() -> None:
    config = load_factory_config(secure_raw(mirror=False))
    for cluster in config.clusters:
        for addon in CATALOGUE.values():
            release = resolve(addon, ClusterContext(config, cluster))
            for image in release.images() + release.artifacts():
                assert not image.endswith((":latest", ":None", ":")), image
            # every value that looks like an image repository is covered by a slot (so the mirror reaches it)
            slot_keys = {s.repository_key for s in addon.images}
            for key in _keys(release.values):
                if key.endswith(("image.repository", "Repository", "nodeCollector.repository")):
                    assert key in slot_keys, f"{addon.name}: {key} is not an image slot"


def _keys(values: dict[str, Any], prefix: str = "") -> list[str]:
    found = []
    for key, value in values.items():
        path = f"{prefix}{key}"
        found += _keys(value, f"{path}.") if isinstance(value, dict) else [path]
    return found


def test_mirror_rewrites_every_chart_and_image(recording: Recording) -> None:
    charts = recording.of_type(CHART)
    assert len(charts) == 2 * 4  # two clusters, four charts each (vault is configured)
    for chart in charts:
        inputs = redact(chart.inputs)
        assert inputs["chart"].startswith("oci://harbor.plant.local/charts/"), inputs["chart"]
        assert "repositoryOpts" not in inputs or not inputs["repositoryOpts"].get("repo")
    for cluster, found in bundle.bundles(recording).items():
        assert found.images and found.artifacts, cluster
        for image in found.images + found.artifacts:
            assert image.startswith(f"{MIRROR}/"), image


def test_mirror_keeps_the_origin_registry_in_the_path() -> None:
    values = {
        "a": {"registry": "docker.io", "repository": "falcosecurity/falco", "tag": "1"},
        "b": {"repository": "ghcr.io/x/y", "tag": "2"},
    }
    slots = (ImageSlot("a.repository", "a.tag", "a.registry"), ImageSlot("b.repository", "b.tag"))
    rewritten = mirrored(values, slots, MIRROR)
    assert catalogue.image_reference(rewritten, slots[0]) == f"{MIRROR}/docker.io/falcosecurity/falco:1"
    assert catalogue.image_reference(rewritten, slots[1]) == f"{MIRROR}/ghcr.io/x/y:2"
    assert values["a"]["registry"] == "docker.io", "the catalogue's own values are never mutated"
    assert catalogue.mirror_image("nginx:1.27", MIRROR) == f"{MIRROR}/docker.io/library/nginx:1.27"


def test_https_chart_mirror_replaces_the_repository() -> None:
    addon = CATALOGUE["falco"]
    assert catalogue.chart_source(addon, "https://charts.plant.local/helm") == (
        "falco",
        "https://charts.plant.local/helm",
    )
    assert catalogue.chart_source(addon, None) == ("falco", addon.repository)


# --- ordering and objects --------------------------------------------------------------------------------


def test_constraints_depend_on_templates_and_templates_on_the_chart(recording: Recording) -> None:
    chart = next(r for r in recording.of_type(CHART) if r.name == "testwerk-edge-baseline-gatekeeper")
    templates = {
        r.inputs["spec"]["crd"]["spec"]["names"]["kind"]: r
        for r in recording.of_type("kubernetes:templates.gatekeeper.sh/v1:ConstraintTemplate")
        if r.name.startswith("testwerk-edge-")
    }
    assert len(templates) == 7 and all(chart.urn in t.dependencies for t in templates.values())
    constraints = [
        r
        for r in recording.resources
        if r.type.startswith("kubernetes:constraints.gatekeeper.sh/") and r.name.startswith("testwerk-edge-")
    ]
    assert len(constraints) == 7
    for constraint in constraints:
        kind = constraint.type.rsplit(":", 1)[1]
        assert templates[kind].urn in constraint.dependencies
        assert constraint.inputs["spec"]["enforcementAction"] == "dryrun"


def test_every_chart_waits_for_its_namespace(recording: Recording) -> None:
    namespaces = {
        r.inputs["metadata"]["name"]: r.urn
        for r in recording.of_type("kubernetes:core/v1:Namespace")
        if r.name.startswith("testwerk-edge-")
    }
    for chart in (r for r in recording.of_type(CHART) if r.name.startswith("testwerk-edge-")):
        assert namespaces[chart.inputs["namespace"]] in chart.dependencies, chart.name


def test_platform_namespaces_state_their_pod_security_level(recording: Recording) -> None:
    levels = {
        r.inputs["metadata"]["name"]: r.inputs["metadata"]
        for r in recording.of_type("kubernetes:core/v1:Namespace")
        if r.name.startswith("testwerk-edge-baseline")
    }
    assert set(levels) == {"gatekeeper-system", "external-secrets", "falco", "trivy-system", "kube-bench"}
    for name, metadata in levels.items():
        level = metadata["labels"]["pod-security.kubernetes.io/enforce"]
        assert metadata["labels"]["pod-security.kubernetes.io/enforce-version"] == "v1.32"
        if level != "restricted":
            assert metadata["annotations"]["factory-floor.io/pod-security-exemption"], name
    assert levels["gatekeeper-system"]["labels"]["admission.gatekeeper.sh/ignore"] == "no-self-managing"
    assert levels["external-secrets"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_webhook_fails_open_only_on_single_node_profiles(recording: Recording) -> None:
    policies = {
        r.name: r.inputs["values"]["validatingWebhookFailurePolicy"]
        for r in recording.of_type(CHART)
        if r.inputs["namespace"] == "gatekeeper-system"
    }
    assert policies == {"testwerk-edge-baseline-gatekeeper": "Ignore", "testwerk-cloud-baseline-gatekeeper": "Fail"}


def test_allowed_images_combine_mirror_and_site_list(recording: Recording) -> None:
    allowed = named(recording, "testwerk-edge-baseline-constraint-allowed-images").inputs["spec"]["parameters"]
    assert allowed == {"allowedImages": [f"{MIRROR}/*", "registry.plant.local/*"]}


def test_falco_uses_modern_ebpf_and_sidekick(recording: Recording) -> None:
    values = next(r for r in recording.of_type(CHART) if r.name == "testwerk-edge-baseline-falco").inputs["values"]
    assert values["driver"]["kind"] == "modern_ebpf"
    assert values["falcoctl"]["artifact"]["install"]["enabled"] is False
    assert values["falcosidekick"]["enabled"] is True


def test_trivy_is_edge_safe(recording: Recording) -> None:
    edge = next(r for r in recording.of_type(CHART) if r.name == "testwerk-edge-baseline-trivy-operator").inputs[
        "values"
    ]
    assert edge["operator"]["scanJobsConcurrentLimit"] == 1
    assert edge["trivy"]["resources"]["limits"]["memory"]
    assert edge["trivy"]["dbRegistry"] == f"{MIRROR}/mirror.gcr.io"


def test_vault_store_and_external_secret_never_carry_values(recording: Recording) -> None:
    store = named(recording, "testwerk-cloud-baseline-vault-store")
    vault = store.inputs["spec"]["provider"]["vault"]
    assert vault["server"] == "https://vault.plant.local:8200" and vault["path"] == "plant" and vault["version"] == "v2"
    secret = named(recording, "testwerk-mes-secret-db")
    assert store.urn in secret.dependencies
    assert secret.inputs["spec"]["data"] == [
        {"secretKey": "user", "remoteRef": {"key": "mes/db", "property": "user"}},
        {"secretKey": "password", "remoteRef": {"key": "mes/db", "property": "password"}},
    ]
    assert not recording.of_type("kubernetes:core/v1:Secret")


def test_kube_bench_benchmark_matches_distribution(recording: Recording) -> None:
    edge = named(recording, "testwerk-edge-baseline-kube-bench").inputs["spec"]["jobTemplate"]["spec"]["template"][
        "spec"
    ]
    cloud = named(recording, "testwerk-cloud-baseline-kube-bench").inputs["spec"]["jobTemplate"]["spec"]["template"][
        "spec"
    ]
    assert edge["containers"][0]["command"] == ["kube-bench", "run", "--benchmark", "k3s-cis-1.8"]
    assert cloud["containers"][0]["command"][-3:] == ["eks-1.8.0", "--targets", "node,policies,managedservices"]
    assert any(v["hostPath"]["path"] == "/var/lib/rancher" for v in edge["volumes"])
    assert all(m["readOnly"] for m in edge["containers"][0]["volumeMounts"])


# --- workload identity ------------------------------------------------------------------------------------


def test_irsa_role_trusts_exactly_the_line_service_account(recording: Recording) -> None:
    role = named(recording, "testwerk-mes-identity-role")
    policy = json.loads(role.inputs["assumeRolePolicy"])
    (statement,) = policy["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {
        "Federated": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.example.com/id/ABC"
    }
    assert statement["Condition"] == {
        "StringEquals": {
            "oidc.eks.example.com/id/ABC:sub": "system:serviceaccount:line-mes:line-workload",
            "oidc.eks.example.com/id/ABC:aud": "sts.amazonaws.com",
        }
    }
    account = named(recording, "testwerk-mes-workload")
    assert account.inputs["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/testwerk-cloud-mes"
    }
    provider = next(p for p in recording.of_type("pulumi:providers:aws"))
    assert role.provider_urn == provider.urn
    assert json.loads(provider.inputs["allowedAccountIds"]) == ["123456789012"]


def test_lines_without_cloud_identity_get_none(recording: Recording) -> None:
    assert "annotations" not in named(recording, "testwerk-press-workload").inputs["metadata"]
    assert not [r for r in recording.resources if r.name.startswith("testwerk-press-identity")]


def test_gcp_identity_binds_one_kubernetes_service_account() -> None:
    rec = run(secure_raw("gcp"))
    member = named(rec, "testwerk-mes-identity-workload-identity").inputs
    assert member["role"] == "roles/iam.workloadIdentityUser"
    assert member["member"] == "serviceAccount:plant-analytics.svc.id.goog[line-mes/line-workload]"
    annotations = named(rec, "testwerk-mes-workload").inputs["metadata"]["annotations"]
    assert annotations == {
        "iam.gke.io/gcp-service-account": "testwerk-cloud-mes@plant-analytics.iam.gserviceaccount.com"
    }


def test_azure_identity_federates_one_subject() -> None:
    rec = run(secure_raw("azure"))
    credential = named(rec, "testwerk-mes-identity-federation").inputs
    assert credential["subject"] == "system:serviceaccount:line-mes:line-workload"
    assert credential["audiences"] == ["api://AzureADTokenExchange"]
    assert credential["issuer"] == AZURE["oidcIssuer"]


def test_managed_cluster_must_federate_with_its_own_cloud() -> None:
    raw = mutate(secure_raw(), "clusters.1.workloadIdentity", {"gcp": GCP})
    with pytest.raises(FactoryConfigError, match=r"clusters\[1\]\.workloadIdentity: a eks cluster federates with aws"):
        load_factory_config(raw)


# --- footprint and bundle ---------------------------------------------------------------------------------


def test_quantities() -> None:
    assert quantity("250m") == quantity("0.25")
    assert quantity("1Gi") == 1024 * quantity("1Mi")
    assert quantity("500M") == 500_000_000
    with pytest.raises(ValueError):
        quantity("1 GB")


def test_footprint_is_read_from_the_values_the_charts_receive(recording: Recording) -> None:
    found = bundle.bundles(recording)["edge"]
    gatekeeper = next(r for r in recording.of_type(CHART) if r.name == "testwerk-edge-baseline-gatekeeper")
    requests = get_path(gatekeeper.inputs["values"], "controllerManager.resources.requests")
    expected_cpu = quantity(requests["cpu"]) + quantity(
        gatekeeper.inputs["values"]["audit"]["resources"]["requests"]["cpu"]
    )
    assert found.footprint.per_addon["gatekeeper"].cpu_requests == expected_cpu


def test_edge_small_platform_fits_the_budget() -> None:
    """The whole edge-small platform must leave the cell room: ≤ 1.5 vCPU and ≤ 3 GiB of requests."""
    result = plan("dev")
    (edge,) = bundle.bundles(result.recording).values()
    steady = edge.footprint.steady
    assert steady.cpu_requests <= quantity("1500m")
    assert steady.memory_requests <= quantity("3Gi")


def test_bundle_lists_every_chart_and_image_the_stack_needs(tmp_path: Path) -> None:
    result = plan("rheinfeld")
    found = bundle.bundles(result.recording)
    bundle.write_bundle(tmp_path, found)
    document = json.loads((tmp_path / "bundle.json").read_text())
    assert set(document) == {"plant", "cloud"}
    for cluster in document.values():
        assert {c["name"] for c in cluster["charts"]} == set(CATALOGUE)
        assert any("kube-bench" in image for image in cluster["images"])
        assert len(cluster["images"]) >= 8
