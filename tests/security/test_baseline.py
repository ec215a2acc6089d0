"""SecurityBaseline as the real program registers it: add-ons from the catalogue in their namespaces, in
order (chart, templates, constraints), Vault store and per-line ExternalSecrets without values, kube-bench
with the cluster's benchmark."""

from __future__ import annotations

import pytest

from components.config.loader import load_factory_config
from components.config.problems import FactoryConfigError
from offline.harness import Recording
from tests.support.factories import MIRROR, mutate, secure_raw
from tests.support.runs import Runs, named

CHART = "kubernetes:helm.sh/v4:Chart"


@pytest.fixture(scope="module")
def recording(runs: Runs) -> Recording:
    return runs.main(secure_raw())


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
        if r.name.startswith(("testwerk-edge-baseline", "testwerk-edge-admission"))
    }
    assert set(levels) == {"gatekeeper-system", "external-secrets", "falco", "trivy-system", "kube-bench"}
    for name, metadata in levels.items():
        level = metadata["labels"]["pod-security.kubernetes.io/enforce"]
        assert metadata["labels"]["pod-security.kubernetes.io/enforce-version"] == "v1.32"
        if level != "restricted":
            assert metadata["annotations"]["factory-floor.io/pod-security-exemption"], name
    assert levels["gatekeeper-system"]["labels"]["admission.gatekeeper.sh/ignore"] == "no-self-managing"
    assert levels["external-secrets"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


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


def test_each_line_reads_vault_through_its_own_store_role_and_folder_and_never_a_value(recording: Recording) -> None:
    store = named(recording, "testwerk-cloud-baseline-mes-secret-store")
    assert store.inputs["metadata"]["name"] == "vault-mes"
    spec = store.inputs["spec"]
    # only line-mes may use the store: by namespace name, not by a label anyone who labels a namespace controls
    assert spec["conditions"] == [{"namespaces": ["line-mes"]}]
    vault = spec["provider"]["vault"]
    assert vault["server"] == "https://vault.plant.local:8200" and vault["path"] == "plant" and vault["version"] == "v2"
    assert vault["auth"]["kubernetes"] == {
        "mountPath": "kubernetes",
        "role": "external-secrets-cloud.mes",
        "serviceAccountRef": {"name": "line-secrets", "namespace": "line-mes"},
    }
    account = named(recording, "testwerk-cloud-baseline-mes-secrets-account")
    assert account.inputs["metadata"]["namespace"] == "line-mes"
    assert account.inputs["automountServiceAccountToken"] is False
    secret = named(recording, "testwerk-cloud-baseline-mes-secret-db")
    assert store.urn in secret.dependencies
    assert secret.inputs["spec"]["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "vault-mes"}
    assert secret.inputs["spec"]["data"] == [
        {"secretKey": "user", "remoteRef": {"key": "cloud/mes/mes/db", "property": "user"}},
        {"secretKey": "password", "remoteRef": {"key": "cloud/mes/mes/db", "property": "password"}},
    ]
    assert not recording.of_type("kubernetes:core/v1:Secret")
    assert not [r.name for r in recording.resources if r.name.startswith("testwerk-edge-baseline-press-")], (
        "a line without secrets gets no account and no store"
    )


def test_a_stack_edit_cannot_point_a_line_at_another_lines_secrets() -> None:
    """The attack: a careless or hostile one-line edit of remoteKey that climbs out of the line's folder."""
    for escape in ("../press/plc", "db/../../press/plc", "./db"):
        raw = mutate(secure_raw(), "lines.2.secrets", [{"name": "db", "remoteKey": escape, "properties": ["p"]}])
        with pytest.raises(FactoryConfigError) as caught:
            load_factory_config(raw)
        [problem] = caught.value.problems
        assert problem.path == "factory-floor:lines[2].secrets[0]" and "stays in the line's folder" in problem.message
