"""The Falcosidekick webhook URL (a SOC endpoint, usually with its credential in the path or query) never sits in
config, chart values, rendered manifests or plan.json: it lives in Falco's own Vault folder, and External Secrets
copies it into a Secret that Falcosidekick reads through the chart's existingSecret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.config.loader import load_factory_config
from components.config.problems import FactoryConfigError
from components.security import falco
from components.security.secrets.vault import addon_access, setup_script
from offline import render
from offline.harness import Recording
from tests.support.factories import DELETE, mutate, secure_raw
from tests.support.runs import Runs, named

CHART = "kubernetes:helm.sh/v4:Chart"
STORE = "kubernetes:external-secrets.io/v1:ClusterSecretStore"
# what a careless engineer pastes: a SOC endpoint whose token is the credential
URL = "https://soc.example.com/hooks/falco?token=a1b2c3-do-not-leak"


def with_webhook(value: object) -> dict[str, object]:
    return mutate(secure_raw(), "security.falco", {"alertWebhook": value, "minimumPriority": "error"})


def test_a_plaintext_webhook_url_is_refused_without_repeating_it() -> None:
    with pytest.raises(FactoryConfigError) as caught:
        load_factory_config(with_webhook(URL))
    message = str(caught.value)
    assert "factory-floor:security.falco.alertWebhook: a webhook URL in plain text is refused" in message
    assert "write `alertWebhook: {remoteKey: soc-webhook}`" in message
    assert "do-not-leak" not in message  # the error is printed in CI logs


def test_the_webhook_needs_vault_and_stays_in_falcos_folder() -> None:
    no_vault = mutate(with_webhook({"remoteKey": "soc-webhook"}), "security.vault", DELETE)
    no_vault = mutate(no_vault, "lines.2.secrets", DELETE)
    with pytest.raises(FactoryConfigError, match=r"security\.falco\.alertWebhook: needs security\.vault"):
        load_factory_config(no_vault)
    with pytest.raises(FactoryConfigError, match=r"alertWebhook: remoteKey '\.\./mes/db' may not contain"):
        load_factory_config(with_webhook({"remoteKey": "../mes/db"}))


@pytest.fixture(scope="module")
def recording(runs: Runs) -> Recording:
    return runs.main(with_webhook({"remoteKey": "soc-webhook", "remoteProperty": "url"}))


def test_falcosidekick_reads_the_url_from_a_secret_external_secrets_fills(recording: Recording) -> None:
    for cluster in ("edge", "cloud"):
        chart = named(recording, f"testwerk-{cluster}-baseline-falco")
        sidekick = chart.inputs["values"]["falcosidekick"]["config"]
        assert sidekick["existingSecret"] == falco.ALERT_WEBHOOK_SECRET
        assert sidekick["webhook"] == {"minimumpriority": "error", "checkcert": True}  # no address
        external = named(recording, f"testwerk-{cluster}-baseline-falco-secret-falco-alert-webhook").inputs
        assert external["metadata"]["namespace"] == falco.NAMESPACE
        assert external["spec"]["target"]["name"] == falco.ALERT_WEBHOOK_SECRET
        assert external["spec"]["data"] == [
            {
                "secretKey": "WEBHOOK_ADDRESS",
                "remoteRef": {"key": f"{cluster}/addon.falco/soc-webhook", "property": "url"},
            }
        ]
        assert external["spec"]["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "vault-addon.falco"}


def test_falcos_store_serves_the_falco_namespace_only_with_its_own_role(recording: Recording) -> None:
    store = named(recording, "testwerk-cloud-baseline-falco-secret-store")
    assert store.inputs["spec"]["conditions"] == [{"namespaces": ["falco"]}]
    auth = store.inputs["spec"]["provider"]["vault"]["auth"]["kubernetes"]
    assert auth["role"] == "external-secrets-cloud.addon.falco"
    assert auth["serviceAccountRef"] == {"name": "addon-secrets", "namespace": "falco"}
    # a line store and Falco's never share a name, whatever a line is called ('.' is no DNS label character)
    assert [r.inputs["metadata"]["name"] for r in recording.of_type(STORE)].count("vault-addon.falco") == 2


def test_vault_grants_falcos_role_its_folder_only() -> None:
    config = load_factory_config(with_webhook({"remoteKey": "soc-webhook"}))
    assert config.security.vault is not None
    access = addon_access(config.security.vault, config.cluster("edge"), "falco", "falco")
    script = setup_script(config.security.vault, config.cluster("edge"), [], [access])
    assert 'path "plant/data/edge/addon.falco/*"' in script
    assert "bound_service_account_names=addon-secrets \\\n  bound_service_account_namespaces=falco" in script


def test_no_secret_value_passes_through_the_program(recording: Recording, tmp_path: Path) -> None:
    # the program registers no Secret at all for Falco (External Secrets makes it in the cluster), and no chart
    # value or artifact names a webhook address
    assert not [r.name for r in recording.of_type("kubernetes:core/v1:Secret")]
    assert not [r.name for r in recording.resources if '"address"' in json.dumps(r.inputs)]
    render.write_artifacts(tmp_path, recording, [])
    texts = [(tmp_path / "plan.json").read_text(), *(p.read_text() for p in (tmp_path / "manifests").rglob("*.yaml"))]
    assert not any("https://soc" in text for text in texts)


def test_without_a_webhook_alerts_stay_in_logs(runs: Runs) -> None:
    default = runs.main(secure_raw())
    assert named(default, "testwerk-edge-baseline-falco").inputs["values"]["falcosidekick"]["config"] == {}
    assert not [r for r in default.resources if "addon.falco" in json.dumps(r.inputs)]
