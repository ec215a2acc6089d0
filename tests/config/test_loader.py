"""Pure config tests: what a platform engineer types into a stack file and what they are told back."""

from __future__ import annotations

from typing import Any

import pytest

from components.config.loader import load_factory_config
from components.config.problems import FactoryConfigError
from offline.stackfile import available_stacks, load_stack
from tests.support.factories import DELETE, mutate, valid_raw
from tests.support.projects import ROOT


def problems_of(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(FactoryConfigError) as caught:
        load_factory_config(raw)
    return [str(p) for p in caught.value.problems]


def test_valid_config_is_typed_with_defaults() -> None:
    config = load_factory_config(valid_raw())
    assert config.factory.name == "testwerk"
    assert [c.name for c in config.clusters] == ["edge", "cloud"]
    weld = config.lines[1]
    assert weld.slo_target == 99.5  # the documented default objective
    assert weld.criticality == "standard"
    assert weld.flows == []
    assert weld.chaos_opt_in is False
    assert weld.namespace == "line-weld"
    assert config.site.registry_mirror is None
    assert [line.name for line in config.lines_on("edge")] == ["press", "weld"]


def test_environment_defaults_to_production() -> None:
    raw = mutate(valid_raw(), "environment", DELETE)
    assert load_factory_config(raw).environment == "production"


def test_site_mirrors_accept_registry_and_oci_urls() -> None:
    raw = valid_raw()
    raw["site"] = {
        **raw["site"],
        "registryMirror": "harbor.plant.local:5000/mirror",
        "chartMirror": "oci://harbor.plant.local/charts",
    }
    site = load_factory_config(raw).site
    assert site.registry_mirror == "harbor.plant.local:5000/mirror"
    assert site.chart_mirror == "oci://harbor.plant.local/charts"


def test_config_is_frozen() -> None:
    config = load_factory_config(valid_raw())
    with pytest.raises(ValueError, match="frozen"):
        config.factory.name = "other"  # type: ignore[misc]


BROKEN = [
    # (id, mutation path, value, config path expected in the message, fragment expected in the message)
    ("unknown-top-level-key", "line", [], "factory-floor:line", "did you mean 'lines'?"),
    ("unknown-nested-key", "lines.0.sloTaget", 99.0, "factory-floor:lines[0].sloTaget", "did you mean 'sloTarget'?"),
    ("unknown-factory-key", "factory.tz", "UTC", "factory-floor:factory.tz", "allowed keys: name, site"),
    ("missing-section", "teams", DELETE, "factory-floor:teams", "is required"),
    ("missing-field", "clusters.0.profile", DELETE, "factory-floor:clusters[0].profile", "is required"),
    ("empty-lines", "lines", [], "factory-floor:lines", "at least one"),
    ("lines-not-a-list", "lines", {"press": {}}, "factory-floor:lines", "must be a list"),
    ("bad-dns-name", "lines.2.name", "MES_Line", "factory-floor:lines[2].name", "DNS label"),
    ("name-too-long", "lines.2.name", "x" * 60, "factory-floor:lines[2].name", "at most 58 characters"),
    ("reserved-line-name", "lines.2.name", "monitoring", "factory-floor:lines[2].name", "reserved"),
    ("duplicate-line", "lines.1.name", "press", "factory-floor:lines[1].name", "already used by lines[0]"),
    ("duplicate-cluster", "clusters.1.name", "edge", "factory-floor:clusters[1].name", "names must be unique"),
    ("unknown-cluster", "lines.2.cluster", "clod", "factory-floor:lines[2].cluster", "did you mean 'cloud'?"),
    ("unknown-team", "lines.0.team", "press", "factory-floor:lines[0].team", "unknown team 'press'"),
    ("unknown-flow-target", "lines.0.flows.0.to", "weldd", "factory-floor:lines[0].flows[0].to", "unknown line"),
    ("flow-to-self", "lines.0.flows.0.to", "press", "factory-floor:lines[0].flows[0].to", "to itself"),
    ("cross-cluster-flow", "lines.0.flows.0.to", "mes", "factory-floor:lines[0].flows[0].to", "cannot span clusters"),
    ("port-out-of-range", "lines.0.flows.0.ports", [70000], "factory-floor:lines[0].flows[0].ports[0]", "65535"),
    ("no-ports", "lines.0.flows.0.ports", [], "factory-floor:lines[0].flows[0].ports", "at least 1"),
    ("duplicate-port", "lines.0.flows.0.ports", [80, 80], "factory-floor:lines[0].flows[0]", "more than once"),
    ("bad-protocol", "lines.0.flows.0.protocol", "ICMP", "factory-floor:lines[0].flows[0].protocol", "'TCP'"),
    # the scrape port on a conduit port: Prometheus would reach the conduit's service, the sender the metrics
    (
        "metrics-port-is-an-inbound-conduit-port",
        "lines.1.metricsPort",
        4840,
        "factory-floor:lines[1].metricsPort",
        "TCP conduit from line 'press' (lines[0].flows[0])",
    ),
    (
        "metrics-port-is-an-outbound-conduit-port",
        "lines.0.metricsPort",
        4840,
        "factory-floor:lines[0].metricsPort",
        "TCP conduit to 'weld' (lines[0].flows[0])",
    ),
    (
        "conduit-on-the-default-metrics-port",
        "lines.0.flows.0.ports",
        [9464],
        "factory-floor:lines[1].metricsPort",
        "9464 (the default) is also a port of the TCP conduit from line 'press'",
    ),
    ("bad-distribution", "clusters.0.distribution", "k8s", "factory-floor:clusters[0].distribution", "'k3s'"),
    ("bad-profile", "clusters.0.profile", "tiny", "factory-floor:clusters[0].profile", "'edge-small'"),
    # what enforces NetworkPolicy (issue #9, finding 4): a value that enforces nothing, or none on EKS
    (
        "network-policy-that-enforces-nothing",
        "clusters.0.networkPolicy",
        "flannel",
        "factory-floor:clusters[0].networkPolicy",
        "'flannel' does not enforce NetworkPolicy",
    ),
    (
        "network-policy-missing-on-eks",
        "clusters.1.networkPolicy",
        DELETE,
        "factory-floor:clusters[1].networkPolicy",
        "is required on eks: the Amazon VPC CNI enforces no NetworkPolicy until its network policy agent",
    ),
    (
        "network-policy-of-another-distribution",
        "clusters.1.networkPolicy",
        "dataplane-v2",
        "factory-floor:clusters[1].networkPolicy",
        "'dataplane-v2' enforces NetworkPolicy on gke, not on eks",
    ),
    ("old-kubernetes", "clusters.0.kubernetesVersion", "1.24", "factory-floor:clusters[0].kubernetesVersion", "1.29"),
    (
        "float-kubernetes",
        "clusters.0.kubernetesVersion",
        1.3,
        "factory-floor:clusters[0].kubernetesVersion",
        "YAML read it as the number 1.3",
    ),
    ("slo-too-high", "lines.0.sloTarget", 100, "factory-floor:lines[0].sloTarget", "less than 100"),
    ("bad-criticality", "lines.0.criticality", "vital", "factory-floor:lines[0].criticality", "'critical'"),
    ("bad-timezone", "factory.timezone", "CEST", "factory-floor:factory.timezone", "IANA"),
    ("no-idp-groups", "teams.1.idpGroups", [], "factory-floor:teams[1].idpGroups", "at least 1"),
    (
        "bad-secret-key",
        "clusters.0.kubeconfig.secretKey",
        "my key",
        "factory-floor:clusters[0].kubeconfig.secretKey",
        "",
    ),
    ("bad-environment", "environment", "prod", "factory-floor:environment", "'production'"),
    ("bad-registry", "site", {"registryMirror": "https://x"}, "factory-floor:site.registryMirror", "host"),
    ("bad-chart-mirror", "site", {"chartMirror": "ftp://x"}, "factory-floor:site.chartMirror", "oci://"),
    # security and identity
    ("no-allowed-images", "security", {}, "factory-floor:security.gatekeeper.allowedImages", "registryMirror"),
    (
        "bad-enforcement",
        "security.gatekeeper.enforcementAction",
        "block",
        "factory-floor:security.gatekeeper.enforcementAction",
        "'deny'",
    ),
    (
        "image-star-inside",
        "security.gatekeeper.allowedImages",
        ["reg.local/*/x"],
        "factory-floor:security.gatekeeper.allowedImages[0]",
        "ending in '/*'",
    ),
    # a careless edit that disarms production (issue #9, finding 5): each one the exact stack edit
    (
        "team-bound-to-every-authenticated-identity",
        "teams.1.idpGroups",
        ["digital-a", "system:authenticated"],
        "factory-floor:teams[1].idpGroups[1]",
        "'system:authenticated' is a Kubernetes system group",
    ),
    (
        "team-bound-to-every-service-account",
        "teams.0.idpGroups",
        ["system:serviceaccounts"],
        "factory-floor:teams[0].idpGroups[0]",
        "edit rights in the team's lines",
    ),
    (
        "production-in-dryrun",
        "security.gatekeeper.enforcementAction",
        "dryrun",
        "factory-floor:security.gatekeeper.enforcementAction",
        "production stacks enforce every constraint: 'dryrun'",
    ),
    (
        "production-in-warn",
        "security.gatekeeper.enforcementAction",
        "warn",
        "factory-floor:security.gatekeeper.enforcementAction",
        "set deny",
    ),
    (
        "production-webhook-fails-open",
        "security.gatekeeper.webhookFailurePolicy",
        "Ignore",
        "factory-floor:security.gatekeeper.webhookFailurePolicy",
        "production stacks fail closed",
    ),
    (
        "bad-webhook-failure-policy",
        "security.gatekeeper.webhookFailurePolicy",
        "ignore",
        "factory-floor:security.gatekeeper.webhookFailurePolicy",
        "did you mean 'Ignore'?",
    ),
    (
        "whole-public-registry",
        "security.gatekeeper.allowedImages",
        ["registry.plant.local/lines/*", "docker.io/*"],
        "factory-floor:security.gatekeeper.allowedImages[1]",
        "every image of the registry docker.io",
    ),
    (
        "whole-private-registry",
        "security.gatekeeper.allowedImages",
        ["registry.plant.local/*"],
        "factory-floor:security.gatekeeper.allowedImages[0]",
        "name a path under it",
    ),
    (
        "prefix-admits-its-neighbours",
        "security.gatekeeper.allowedImages",
        ["ghcr.io/acme*"],
        "factory-floor:security.gatekeeper.allowedImages[0]",
        "admits every image whose path merely starts the same (e.g. 'ghcr.io/acme-evil/...')",
    ),
    (
        "vault-plain-http",
        "security.vault",
        {"server": "http://vault:8200"},
        "factory-floor:security.vault.server",
        "https://",
    ),
    (
        "two-clouds",
        "clusters.1.workloadIdentity",
        {
            "aws": {"accountId": "123456789012", "region": "eu-central-1", "oidcIssuer": "https://x"},
            "gcp": {"project": "plant-one"},
        },
        "factory-floor:clusters[1].workloadIdentity",
        "exactly one",
    ),
    (
        "bad-aws-account",
        "clusters.1.workloadIdentity",
        {"aws": {"accountId": "1234", "region": "eu-central-1", "oidcIssuer": "https://x"}},
        "factory-floor:clusters[1].workloadIdentity.aws.accountId",
        "12-digit",
    ),
]


@pytest.mark.parametrize(("path", "value", "where", "fragment"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_config_names_the_key(path: str, value: Any, where: str, fragment: str) -> None:
    problems = problems_of(mutate(valid_raw(), path, value))
    matching = [p for p in problems if p.startswith(f"{where}:")]
    assert matching, f"no problem at {where}; got {problems}"
    assert any(fragment in p for p in matching), matching


def test_line_secrets_without_vault_are_refused_at_their_key() -> None:
    raw = mutate(valid_raw(), "lines.0.secrets", [{"name": "db", "remoteKey": "a/b", "properties": ["p"]}])
    problems = problems_of(mutate(raw, "security.vault", DELETE))
    assert any(p.startswith("factory-floor:lines[0].secrets:") and "security.vault" in p for p in problems), problems


def test_every_problem_is_reported_at_once() -> None:
    raw = valid_raw()
    raw = mutate(raw, "factory.timezone", "Mars/Base")
    raw = mutate(raw, "clusters.0.profile", "huge")
    raw = mutate(raw, "lines.1.team", "nobody")
    raw = mutate(raw, "lines.2.sloTarget", 101)
    raw = mutate(raw, "lines.2.cluster", "nowhere")  # same item as an invalid field: still cross-checked
    raw["colour"] = "blue"
    paths = {p.split(": ", 1)[0] for p in problems_of(raw)}
    assert paths == {
        "factory-floor:factory.timezone",
        "factory-floor:clusters[0].profile",
        "factory-floor:lines[1].team",
        "factory-floor:lines[2].sloTarget",
        "factory-floor:lines[2].cluster",
        "factory-floor:colour",
    }


def test_kubeconfig_secret_keys_are_known_keys_not_typos() -> None:
    raw = valid_raw()
    assert load_factory_config(raw)  # edgeKubeconfig/cloudKubeconfig are referenced, so allowed
    raw["edgeKubeconfg"] = "[secret]"
    assert any("did you mean 'edgeKubeconfig'?" in p for p in problems_of(raw))


def test_error_message_is_readable_without_traceback() -> None:
    with pytest.raises(FactoryConfigError) as caught:
        load_factory_config(mutate(valid_raw(), "lines.0.cluster", "edgy"))
    text = str(caught.value)
    assert text.startswith("invalid factory configuration (1 problem(s); reference: docs/configuration.md):")
    assert "factory-floor:lines[0].cluster: unknown cluster 'edgy' (did you mean 'edge'?)" in text
    assert "Traceback" not in text and "pydantic" not in text


def test_unknown_cluster_is_reported_once_not_per_flow() -> None:
    problems = problems_of(mutate(valid_raw(), "lines.1.cluster", "edgy"))
    assert problems == [
        "factory-floor:lines[1].cluster: unknown cluster 'edgy' (did you mean 'edge'?); defined: cloud, edge"
    ]


@pytest.mark.parametrize(
    ("action", "failure_policy"), [("dryrun", "Ignore"), ("warn", "Ignore"), ("dryrun", "Fail"), ("deny", "Ignore")]
)
@pytest.mark.parametrize("environment", ["staging", "development"])
def test_disposable_stacks_may_audit_warn_and_fail_open(environment: str, action: str, failure_policy: str) -> None:
    raw = mutate(valid_raw(), "environment", environment)
    raw = mutate(raw, "security.gatekeeper.enforcementAction", action)
    raw = mutate(raw, "security.gatekeeper.webhookFailurePolicy", failure_policy)
    gatekeeper = load_factory_config(raw).security.gatekeeper
    assert (gatekeeper.enforcement_action, gatekeeper.webhook_failure_policy) == (action, failure_policy)


def test_production_enforces_and_fails_closed_by_default() -> None:
    gatekeeper = load_factory_config(mutate(valid_raw(), "environment", DELETE)).security.gatekeeper
    assert (gatekeeper.enforcement_action, gatekeeper.webhook_failure_policy) == ("deny", "Fail")


def test_one_careless_edit_of_each_kind_is_reported_at_once() -> None:
    raw = mutate(valid_raw(), "teams.0.idpGroups", ["press-engineers", "system:authenticated"])
    raw = mutate(
        raw,
        "security.gatekeeper",
        {
            "enforcementAction": "dryrun",
            "webhookFailurePolicy": "Ignore",
            "allowedImages": ["registry.plant.local/lines/*"],
        },
    )
    paths = {p.split(": ", 1)[0] for p in problems_of(raw)}
    assert paths == {
        "factory-floor:teams[0].idpGroups[1]",
        "factory-floor:security.gatekeeper.enforcementAction",
        "factory-floor:security.gatekeeper.webhookFailurePolicy",
    }


@pytest.mark.parametrize(
    "entry",
    [
        "registry.plant.local/lines/*",
        "registry.plant.local:5000/lines/press/*",
        "123456789012.dkr.ecr.eu-central-1.amazonaws.com/rheinfeld/*",
        "docker.io/library/busybox:1.36",  # exact images stay allowed, registry-wide or not
        "registry.plant.local/press/plc-gateway@sha256:" + "a" * 64,
    ],
)
def test_exact_images_and_prefixes_under_a_path_are_allowed(entry: str) -> None:
    raw = mutate(valid_raw(), "security.gatekeeper.allowedImages", [entry])
    assert load_factory_config(raw).security.gatekeeper.allowed_images == [entry]


@pytest.mark.parametrize(
    "entry",
    [
        "docker.io/*",
        "registry.plant.local:5000/*",
        "ghcr.io/acme*",
        "ghcr.io/acme/app*",
        "registry.plant.local/lines/app:*",
        "registry.plant.local/*/press/*",
        "registry.plant.local/lines//*",
        "*",
        "docker.io",
    ],
)
def test_wide_or_malformed_image_entries_are_refused(entry: str) -> None:
    problems = problems_of(mutate(valid_raw(), "security.gatekeeper.allowedImages", [entry]))
    assert [p.split(": ", 1)[0] for p in problems] == ["factory-floor:security.gatekeeper.allowedImages[0]"]
    assert f"'{entry}'" in problems[0]


@pytest.mark.parametrize("stack", available_stacks(ROOT))
def test_every_reference_stack_still_loads(stack: str) -> None:
    settings = load_stack(ROOT, stack)
    config = load_factory_config(
        settings.raw_project_config(), require_kubeconfigs=False, known_problems=settings.problems
    )
    gatekeeper = config.security.gatekeeper
    if config.environment == "production":
        assert (gatekeeper.enforcement_action, gatekeeper.webhook_failure_policy) == ("deny", "Fail")
    assert not [g for team in config.teams for g in team.idp_groups if g.startswith("system:")]
