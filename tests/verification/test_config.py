"""`clusters[].networkPolicy`: what enforces NetworkPolicy on a cluster, judged per distribution — the
distribution's enforcing default where it has one, required where it has none, and a value that enforces
nothing refused with the reason (issue #9, finding 4)."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from components.config.loader import load_factory_config
from components.config.problems import FactoryConfigError
from components.config.types import Distribution
from components.verification.config import (
    DEFAULT_ENFORCERS,
    ENFORCERS,
    NOT_ENFORCING,
    WHY_REQUIRED,
    network_policy_description,
    network_policy_problem,
)
from tests.support.factories import DELETE, mutate, valid_raw

WHERE = "factory-floor:clusters[1].networkPolicy"


def _cloud(distribution: str, network_policy: Any = DELETE) -> dict[str, Any]:
    """valid_raw with its second cluster (the one `mes` runs on) of `distribution`, naming `network_policy`."""
    raw = mutate(valid_raw(), "clusters.1.distribution", distribution)
    return mutate(raw, "clusters.1.networkPolicy", network_policy)


def _problems(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(FactoryConfigError) as caught:
        load_factory_config(raw)
    return [str(p) for p in caught.value.problems]


def test_every_distribution_is_decided() -> None:
    """A new distribution must say what enforces NetworkPolicy on it, and whether it has a default."""
    assert set(ENFORCERS) == set(get_args(Distribution))
    assert set(DEFAULT_ENFORCERS) | set(WHY_REQUIRED) == set(ENFORCERS)
    assert not set(DEFAULT_ENFORCERS) & set(WHY_REQUIRED)
    assert all(DEFAULT_ENFORCERS[d] in ENFORCERS[d] for d in DEFAULT_ENFORCERS)
    # a name that enforces nothing is never also accepted somewhere
    assert not {name for names in ENFORCERS.values() for name in names} & set(NOT_ENFORCING)


@pytest.mark.parametrize(
    ("distribution", "value"), [(d, name) for d, names in ENFORCERS.items() for name in names], ids=str
)
def test_every_enforcing_implementation_of_a_distribution_is_accepted(distribution: str, value: str) -> None:
    cluster = load_factory_config(_cloud(distribution, value)).cluster("cloud")
    assert cluster.network_policy == value
    assert cluster.network_policy_enforcer == value


@pytest.mark.parametrize(("distribution", "default"), sorted(DEFAULT_ENFORCERS.items()))
def test_where_the_distributions_default_enforces_it_is_the_default(distribution: str, default: str) -> None:
    cluster = load_factory_config(_cloud(distribution)).cluster("cloud")
    assert cluster.network_policy is None  # unset in the stack file ...
    assert cluster.network_policy_enforcer == default  # ... and what enforces is the distribution's own
    assert load_factory_config(valid_raw()).cluster("edge").network_policy_enforcer == "kube-router"  # k3s


@pytest.mark.parametrize("distribution", sorted(WHY_REQUIRED))
def test_where_the_default_enforces_nothing_or_is_unknown_the_key_is_required(distribution: str) -> None:
    [problem] = _problems(_cloud(distribution))
    assert problem.startswith(f"{WHERE}: is required on {distribution}: {WHY_REQUIRED[distribution]}")
    for name in ENFORCERS[distribution]:  # the message names every value that would do
        assert f"'{name}' (" in problem


def test_eks_says_how_to_turn_the_agent_on() -> None:
    [problem] = _problems(_cloud("eks"))
    assert "'aws-network-policy-agent' (the Amazon VPC CNI's network policy agent" in problem
    assert 'enableNetworkPolicy: "true"' in problem


@pytest.mark.parametrize("distribution", sorted(ENFORCERS))
@pytest.mark.parametrize("value", sorted(NOT_ENFORCING))
def test_a_value_that_enforces_nothing_is_refused_with_the_reason(distribution: str, value: str) -> None:
    [problem] = _problems(_cloud(distribution, value))
    assert problem == (
        f"{WHERE}: '{value}' does not enforce NetworkPolicy ({NOT_ENFORCING[value]}): every line would reach the "
        f"other lines, the API server and the instance metadata service; on {distribution} use one of: "
        + ", ".join(ENFORCERS[distribution])
    )


def test_k3s_started_with_flannel_alone_is_refused() -> None:
    [problem] = _problems(mutate(valid_raw(), "clusters.0.networkPolicy", "flannel"))
    assert problem.startswith("factory-floor:clusters[0].networkPolicy: 'flannel' does not enforce NetworkPolicy")
    assert problem.endswith("on k3s use one of: kube-router, calico, cilium")


@pytest.mark.parametrize(
    ("distribution", "value", "expected"),
    [
        ("eks", "dataplane-v2", "'dataplane-v2' enforces NetworkPolicy on gke, not on eks; on eks use one of: "),
        ("k3s", "canal", "'canal' enforces NetworkPolicy on rke2, not on k3s; on k3s use one of: "),
        ("gke", "azure-npm", "'azure-npm' enforces NetworkPolicy on aks, not on gke; on gke use one of: "),
        ("rke2", "kube-router", "'kube-router' enforces NetworkPolicy on k3s, not on rke2"),
        ("rke2", "weave", "'weave' is not an implementation known to enforce NetworkPolicy on rke2; use one of: "),
        ("k3s", "kube-routr", "on k3s (did you mean 'kube-router'?); use one of: kube-router, calico, cilium"),
        ("aks", "Cilium", "(did you mean 'cilium'?)"),
    ],
)
def test_a_value_of_another_distribution_or_unknown_names_what_is_allowed(
    distribution: str, value: str, expected: str
) -> None:
    [problem] = _problems(_cloud(distribution, value))
    assert problem.startswith(f"{WHERE}: ") and expected in problem


@pytest.mark.parametrize(
    ("value", "expected"),
    [(5, "must be text"), ("", "at least 1 character"), (None, "is required on eks")],  # YAML null: as if unset
)
def test_a_value_that_is_no_name_is_reported_once(value: Any, expected: str) -> None:
    """The key's own problem is enough: the per-distribution rule does not add "is required" to it."""
    [problem] = _problems(_cloud("eks", value))
    assert problem.startswith(f"{WHERE}: ") and expected in problem


def test_every_problem_of_the_file_at_once() -> None:
    raw = mutate(_cloud("aks", "azure-cni"), "clusters.0.networkPolicy", "none")
    raw = mutate(raw, "clusters.0.profile", "tiny")  # a broken cluster item is still judged for this key
    problems = _problems(raw)
    assert [p.split(":", 2)[1] for p in problems] == [
        "clusters[0].networkPolicy",
        "clusters[0].profile",
        "clusters[1].networkPolicy",
    ]


def test_the_problem_function_and_the_reference_agree() -> None:
    description = network_policy_description()
    for distribution, names in ENFORCERS.items():
        for name in names:
            assert network_policy_problem(distribution, name) is None
            assert f"`{name}`" in description
        assert f"{distribution}: " in description
    assert "k3s: `kube-router` (default)" in description and "rke2: `canal` (default)" in description
    assert "Required on eks, gke, aks, generic." in description
