"""external-secret-line-scope knows the cluster from the provider: a key in another cluster's folder is refused
(a cloud cluster's line cannot read the plant cluster's folder of the same line name)."""

from __future__ import annotations

import factory_policies as fp
from tests.support.policy_cases.external_secrets import external_secret, store
from tests.support.policy_kit import judge

EDGE = {"clusterIdentifier": "augsburg/edge"}


def test_a_key_in_the_lines_folder_of_its_own_cluster_passes() -> None:
    assert (
        judge(
            fp.external_secret_line_scope, [external_secret("paint", "edge/paint/plc"), store("paint")], provider=EDGE
        )
        == []
    )


def test_the_same_line_on_another_cluster_is_another_folder() -> None:
    found = judge(
        fp.external_secret_line_scope, [external_secret("paint", "cloud/paint/plc"), store("paint")], provider=EDGE
    )
    assert found == [
        "ExternalSecret line-paint/plc-credentials: data[0].remoteRef.key 'cloud/paint/plc' is outside the line's "
        "folder 'edge/paint/'",
        "ExternalSecret line-paint/plc-credentials: data[1].remoteRef.key 'cloud/paint/plc' is outside the line's "
        "folder 'edge/paint/'",
    ]


def test_external_secrets_outside_line_namespaces_are_not_this_policys_concern() -> None:
    platform = external_secret("paint", "anything")
    platform_props = {**platform.props, "metadata": {"name": "sidekick", "namespace": "falco"}}
    assert judge(fp.external_secret_line_scope, [platform.__class__(platform.type, platform_props, name="sk")]) == []
