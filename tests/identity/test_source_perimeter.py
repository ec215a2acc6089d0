"""Finding 9 (#9): a line team member reads the line's web-identity token from a pod (a Job they run, its logs),
calls AssumeRoleWithWebIdentity from a laptop and gets the role's credentials. The STS call itself is judged by
the trust policy only; the role's inline deny makes the credentials useless anywhere outside the plant's
perimeter. Each request is judged by the IAM condition semantics the IAM User Guide documents
(tests/support/iam_conditions.py), next to the in-cluster requests that must keep working."""

from __future__ import annotations

import json

import pytest

from components.config.loader import load_factory_config
from components.config.problems import FactoryConfigError
from components.identity.config import AwsIdentity
from components.identity.trust import PERIMETER_SID, source_perimeter_policy
from offline.harness import Recording
from tests.support.factories import AWS, DELETE, mutate, secure_raw
from tests.support.iam_conditions import denies, key_matches
from tests.support.runs import Runs, named

ENDPOINT, PLANT_VPC, NAT = "vpce-0a1b2c3d4e5f60718", "vpc-0123456789abcdef0", "203.0.113.10/32"

LAPTOP = {"aws:SourceIp": "198.51.100.7", "aws:ViaAWSService": "false"}
# the attacker's own AWS account has VPC endpoints too: a request through one carries that VPC and endpoint
FOREIGN_ENDPOINT = {
    "aws:SourceVpce": "vpce-0fedcba9876543210",
    "aws:SourceVpc": "vpc-0ffffffffffffffff",
    "aws:ViaAWSService": "false",
}
THROUGH_OUR_ENDPOINT = {"aws:SourceVpce": ENDPOINT, "aws:SourceVpc": PLANT_VPC, "aws:ViaAWSService": "false"}
THROUGH_OUR_VPC = {"aws:SourceVpce": "vpce-0123401234abcdef0", "aws:SourceVpc": PLANT_VPC, "aws:ViaAWSService": "false"}
FROM_OUR_NAT = {"aws:SourceIp": "203.0.113.10", "aws:ViaAWSService": "false"}
# S3 calling KMS for an object the role reads: the second hop carries the service's context, not the pod's
ON_OUR_BEHALF = {"aws:SourceIp": "52.94.133.131", "aws:ViaAWSService": "true"}


def identity(**perimeter: list[str]) -> AwsIdentity:
    return AwsIdentity.model_validate(
        {
            "accountId": "123456789012",
            "region": "eu-central-1",
            "oidcIssuer": "https://oidc.example.com/id/X",
            **perimeter,
        }
    )


P = pytest.param
CASES = [
    P({"vpcEndpoints": [ENDPOINT]}, LAPTOP, True, id="endpoint-only/laptop-denied"),
    P({"vpcEndpoints": [ENDPOINT]}, FOREIGN_ENDPOINT, True, id="endpoint-only/attackers-own-endpoint-denied"),
    P({"vpcEndpoints": [ENDPOINT]}, FROM_OUR_NAT, True, id="endpoint-only/unlisted-nat-denied"),
    P({"vpcEndpoints": [ENDPOINT]}, THROUGH_OUR_ENDPOINT, False, id="endpoint-only/pod-through-endpoint-works"),
    P({"vpcEndpoints": [ENDPOINT]}, ON_OUR_BEHALF, False, id="endpoint-only/aws-service-on-our-behalf-works"),
    P({"sourceVpcs": [PLANT_VPC]}, THROUGH_OUR_VPC, False, id="vpc/pod-through-any-endpoint-of-our-vpc-works"),
    P({"sourceVpcs": [PLANT_VPC]}, FOREIGN_ENDPOINT, True, id="vpc/attackers-own-endpoint-denied"),
    P({"sourceVpcs": [PLANT_VPC]}, LAPTOP, True, id="vpc/laptop-denied"),
    P({"sourceIps": [NAT]}, FROM_OUR_NAT, False, id="nat/pod-through-nat-works"),
    P({"sourceIps": [NAT]}, LAPTOP, True, id="nat/laptop-denied"),
    P({"sourceIps": [NAT]}, THROUGH_OUR_ENDPOINT, True, id="nat/endpoint-request-has-no-source-ip-denied"),
    P({"sourceIps": [NAT], "vpcEndpoints": [ENDPOINT]}, THROUGH_OUR_ENDPOINT, False, id="both/endpoint-works"),
    P({"sourceIps": [NAT], "vpcEndpoints": [ENDPOINT]}, FROM_OUR_NAT, False, id="both/nat-works"),
    P(
        {"sourceIps": [NAT], "vpcEndpoints": [ENDPOINT], "sourceVpcs": [PLANT_VPC]},
        LAPTOP,
        True,
        id="all/laptop-denied",
    ),
    P(
        {"sourceIps": [NAT], "vpcEndpoints": [ENDPOINT], "sourceVpcs": [PLANT_VPC]},
        FOREIGN_ENDPOINT,
        True,
        id="all/attackers-own-endpoint-denied",
    ),
]


@pytest.mark.parametrize(("perimeter", "context", "denied"), CASES)
def test_credentials_work_only_inside_the_perimeter(
    perimeter: dict[str, list[str]], context: dict[str, str], denied: bool
) -> None:
    policy = source_perimeter_policy(identity(**perimeter))
    assert policy is not None
    assert denies(policy, context) is denied


def test_the_evaluator_reads_absent_keys_as_iam_does() -> None:
    # documented: a negated operator is true for an absent key, a positive one false unless ...IfExists
    assert key_matches("StringNotEquals", "aws:SourceVpc", ["vpc-1"], {}) is True
    assert key_matches("StringEquals", "aws:SourceVpc", ["vpc-1"], {}) is False
    assert key_matches("StringEqualsIfExists", "aws:SourceVpc", ["vpc-1"], {}) is True
    assert key_matches("NotIpAddressIfExists", "aws:SourceIp", ["10.0.0.0/8"], {"aws:SourceIp": "10.1.2.3"}) is False
    with pytest.raises(ValueError, match="not modelled"):
        key_matches("ArnLike", "aws:PrincipalArn", ["arn:aws:iam::1:role/x"], {})


def test_without_a_perimeter_there_is_no_policy_and_production_refuses_it() -> None:
    assert source_perimeter_policy(identity()) is None
    bare = {key: value for key, value in AWS.items() if key not in ("vpcEndpoints", "sourceVpcs", "sourceIps")}
    raw = mutate(secure_raw(), "clusters.1.workloadIdentity", {"aws": bare})
    with pytest.raises(
        FactoryConfigError, match=r"clusters\[1\]\.workloadIdentity\.aws: production needs a source perimeter"
    ):
        load_factory_config(raw)
    load_factory_config(mutate(raw, "environment", "staging"))  # a disposable stack may leave it open


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("vpcEndpoints", ["vpc-0123"], "a VPC endpoint id like vpce-"),
        ("sourceVpcs", ["vpce-0a1b2c3d"], "a VPC id like vpc-"),
        ("sourceIps", ["203.0.113.10/24"], "host bits zero"),
        ("sourceIps", ["203.0.113.10"], "with its prefix length"),
        ("stsEndpointCidrs", DELETE, "stsEndpointCidrs: is required"),
    ],
)
def test_perimeter_and_endpoint_keys_are_validated(key: str, value: object, fragment: str) -> None:
    with pytest.raises(FactoryConfigError, match="clusters\\[1\\]\\.workloadIdentity\\.aws") as caught:
        load_factory_config(mutate(secure_raw(), f"clusters.1.workloadIdentity.aws.{key}", value))
    assert fragment in str(caught.value)


@pytest.fixture(scope="module")
def recording(runs: Runs) -> Recording:
    return runs.main(secure_raw())


def test_each_line_role_carries_the_deny(recording: Recording) -> None:
    role = named(recording, "testwerk-mes-identity-role")
    perimeter = named(recording, "testwerk-mes-identity-perimeter")
    assert perimeter.type == "aws:iam/rolePolicy:RolePolicy"
    assert perimeter.inputs["role"] == role.inputs["name"]
    policy = json.loads(perimeter.inputs["policy"])
    assert [s["Sid"] for s in policy["Statement"]] == [PERIMETER_SID]
    assert denies(policy, LAPTOP) and not denies(policy, THROUGH_OUR_ENDPOINT)
    assert perimeter.protect and perimeter.retain_on_delete  # production: kept like the role it guards
