"""The generated pages users read are the ones the code generates: the configuration reference (from the
models) and the offline-parity page (from the catalogue and the policy pack)."""

from pathlib import Path

from pulumi_policy import ResourceValidationArgs

from components.catalogue.model import Chart
from components.core import vocabulary as vocab
from components.inventory import CATALOGUE
from offline import offline_parity
from offline.config_reference import render
from offline.policy_runner import load_policies, policy_resources
from tests.support.runs import Runs

ROOT = Path(__file__).resolve().parents[2]


def test_configuration_reference_is_current() -> None:
    committed = (ROOT / "docs" / "configuration.md").read_text()
    assert committed == render(), "docs/configuration.md is stale: run `make docs`"


def test_reference_documents_every_key_with_a_description() -> None:
    text = render()
    for key in ("factory-floor:lines", "kubernetesVersion", "secretKey", "sloTarget", "registryMirror", "flows"):
        assert f"`{key}`" in text or key in text
    for row in (r for r in text.splitlines() if r.startswith("| `")):
        assert not row.rstrip().endswith("|  |"), f"undocumented key: {row}"


def test_offline_parity_page_is_current() -> None:
    committed = (ROOT / "docs" / "offline-parity.md").read_text()
    assert committed == offline_parity.render(), "docs/offline-parity.md is stale: run `make docs`"


def test_offline_parity_names_every_add_on_and_how_it_is_judged() -> None:
    text = offline_parity.render()
    for addon in CATALOGUE.values():
        section = text.split(f"### `{addon.name}`\n", 1)[1].split("\n### ", 1)[0]
        assert f"`{addon.namespace}`" in section
        if isinstance(addon.source, Chart):
            assert "**Only at a real preview:** every object the chart renders" in section
            assert addon.rbac is not None
            assert all(f"ClusterRole `{grant.role}`" in section for grant in addon.rbac.cluster_roles)
            if addon.rbac.cluster_roles:
                # superuser bindings are judged whoever renders them; wildcards in a chart's roles are not
                judged_rbac = section.split("**Its ClusterRoles and bindings, judged with no exemption by:**")[1]
                assert "`rbac-no-cluster-admin-bindings`" in judged_rbac.split("\n", 1)[0]
                assert "`rbac-no-wildcards`" not in judged_rbac.split("\n", 1)[0]
        else:
            assert "**Only at a real preview:**" not in section


def test_the_pages_exemptions_are_what_the_pack_answers_for_the_real_objects(runs: Runs) -> None:
    """The page asks the pack's exemption functions about a stand-in object of each add-on; for the objects a
    manifest add-on really registers (with the config the stack is judged with) they must answer alike."""
    result = runs.stack("rheinfeld")
    policies = [p for p in load_policies(ROOT / "policy") if getattr(p, "exemption", None)]
    compared = exempted = 0
    for resource in policy_resources(result.recording):
        addon = CATALOGUE.get(str(((resource.props.get("metadata") or {}).get("labels") or {}).get(vocab.ADDON)))
        if addon is None:
            continue
        for policy in (p for p in policies if resource.resource_type in p.resource_types):
            config = result.policy_config.get(policy.name, {})
            real = policy.exemption(
                ResourceValidationArgs(
                    resource.resource_type, resource.props, resource.urn, resource.name, resource.opts, None, config
                )
            )
            probe = offline_parity.exemption(policy, addon, [resource.resource_type])
            assert probe == real, (policy.name, resource.urn)
            compared += 1
            exempted += real is not None
    assert compared and exempted  # the comparison saw objects, and the pack exempting some of them
