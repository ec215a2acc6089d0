"""Every reference stack plans with the segmentation canary on every cluster: clean under the policy pack, the
Job naming the cluster's own enforcer, and both add-ons in the bundle with their images and footprint."""

from __future__ import annotations

from decimal import Decimal

import pytest

from components.catalogue.footprint import quantity
from components.verification.canary import CANARY, IMAGE, LISTENER_ADDON, PROBE_NAMESPACE, TARGET_NAMESPACE
from offline import bundle
from offline.render import manifest
from tests.support.runs import Runs

ENFORCERS = {
    "dev": {"edge": "kube-router"},
    "pilsen": {"shopfloor": "kube-router"},
    "rheinfeld": {"plant": "canal", "cloud": "aws-network-policy-agent"},
}


@pytest.mark.parametrize("stack", sorted(ENFORCERS))
def test_every_cluster_of_every_reference_stack_runs_the_canary(runs: Runs, stack: str) -> None:
    result = runs.stack(stack)
    assert result.exit_code == 0, "the canary adds no policy violation"
    assert {c.name: c.network_policy_enforcer for c in result.config.clusters} == ENFORCERS[stack]
    jobs = {}
    for job in result.recording.of_type("kubernetes:batch/v1:Job"):
        document = manifest(job)
        if document["metadata"]["name"] == CANARY:
            cluster = job.name.removeprefix(f"{result.config.factory.name}-").split("-verification-")[0]
            [container] = document["spec"]["template"]["spec"]["containers"]
            jobs[cluster] = container["env"][0]["value"]
            assert document["metadata"]["namespace"] == PROBE_NAMESPACE
    assert jobs == ENFORCERS[stack]


@pytest.mark.parametrize("stack", sorted(ENFORCERS))
def test_the_bundle_mirrors_busybox_and_counts_the_canary(runs: Runs, stack: str) -> None:
    found = bundle.bundles(runs.stack(stack).recording)
    assert set(found) == set(ENFORCERS[stack])
    for cluster in found.values():
        releases = {r.addon.name: r for r in cluster.releases}
        assert {releases[CANARY].addon.namespace, releases[LISTENER_ADDON].addon.namespace} == {
            PROBE_NAMESPACE,
            TARGET_NAMESPACE,
        }
        assert all(image.endswith(IMAGE.reference) for image in releases[CANARY].images())
        listener = cluster.footprint.per_addon[LISTENER_ADDON]  # steady: the listener keeps running
        job = cluster.footprint.per_addon[CANARY]  # transient: the Job runs for a minute per change
        assert (listener.cpu_requests, listener.memory_requests) == (quantity("5m"), quantity("8Mi"))
        assert (listener.cpu_limits, listener.memory_limits) == (quantity("50m"), quantity("32Mi"))
        assert (job.cpu_requests, job.memory_requests) == (quantity("10m"), quantity("16Mi"))
        assert (job.cpu_limits, job.memory_limits) == (quantity("100m"), quantity("32Mi"))
        assert cluster.footprint.steady.cpu_requests >= Decimal("0.005")
