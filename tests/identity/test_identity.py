"""WorkloadIdentity: a cloud identity that trusts exactly one service account, for lines (as the program
registers them) and through the same component for add-ons."""

from __future__ import annotations

import json

import pytest

from components.config.loader import load_factory_config
from components.config.problems import FactoryConfigError
from components.identity.trust import gcp_account_id
from offline.harness import Recording
from tests.support.factories import AZURE, GCP, mutate, secure_raw
from tests.support.runs import Runs, named


@pytest.fixture(scope="module")
def recording(runs: Runs) -> Recording:
    return runs.main(secure_raw())


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
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/testwerk-cloud-mes",
        # the EKS pod identity webhook mounts the account's token for 600 s (Kubernetes' minimum), not 86400
        "eks.amazonaws.com/token-expiration": "600",
    }
    assert role.inputs["maxSessionDuration"] == 3600  # IAM's minimum
    provider = next(p for p in recording.of_type("pulumi:providers:aws") if p.name == "testwerk-cloud-aws")
    assert role.provider_urn == provider.urn
    assert json.loads(provider.inputs["allowedAccountIds"]) == ["123456789012"]


def test_lines_without_cloud_identity_get_none(recording: Recording) -> None:
    assert "annotations" not in named(recording, "testwerk-press-workload").inputs["metadata"]
    assert not [r for r in recording.resources if r.name.startswith("testwerk-press-identity")]


def test_gcp_identity_binds_one_kubernetes_service_account(runs: Runs) -> None:
    rec = runs.main(secure_raw("gcp"))
    member = named(rec, "testwerk-mes-identity-workload-identity").inputs
    assert member["role"] == "roles/iam.workloadIdentityUser"
    assert member["member"] == "serviceAccount:plant-analytics.svc.id.goog[line-mes/line-workload]"
    annotations = named(rec, "testwerk-mes-workload").inputs["metadata"]["annotations"]
    assert annotations == {
        "iam.gke.io/gcp-service-account": "testwerk-cloud-mes@plant-analytics.iam.gserviceaccount.com"
    }


def test_azure_identity_federates_one_subject(runs: Runs) -> None:
    rec = runs.main(secure_raw("azure"))
    credential = named(rec, "testwerk-mes-identity-federation").inputs
    assert credential["subject"] == "system:serviceaccount:line-mes:line-workload"
    annotations = named(rec, "testwerk-mes-workload").inputs["metadata"]["annotations"]
    assert annotations["azure.workload.identity/service-account-token-expiration"] == "3600"  # its minimum
    assert credential["audiences"] == ["api://AzureADTokenExchange"]
    assert credential["issuer"] == AZURE["oidcIssuer"]


def test_managed_cluster_must_federate_with_its_own_cloud() -> None:
    raw = mutate(secure_raw(), "clusters.1.workloadIdentity", {"gcp": GCP})
    with pytest.raises(FactoryConfigError, match=r"clusters\[1\]\.workloadIdentity: a eks cluster federates with aws"):
        load_factory_config(raw)


def test_long_gcp_account_ids_keep_their_head_and_a_stable_hash() -> None:
    assert gcp_account_id("plant-edge-press") == "plant-edge-press"
    long_name = "rheinfeld-plant-engine-assembly"
    found = gcp_account_id(long_name)
    assert len(found) <= 30 and found.startswith("rheinfeld-plant-engine") and found == gcp_account_id(long_name)
    assert found != gcp_account_id("rheinfeld-plant-engine-assembly2")
