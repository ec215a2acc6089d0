"""The escrow as a stack gets it: the bundle it copies is exactly what the catalogue installs (through the site
mirror), each chart pinned by its archive's digest; per location one image job and one secret export, restricted,
no Kubernetes API token, writing only `escrow/<cluster>/` of its store as a writer of its own (its workload identity
on the cluster's own cloud, else a principal whose key reaches Vault, never the program); the store's coordinates
beside the jobs; the Vault role reads the cluster's folder only, with a Vault-only token; bad escrow config is
refused with the key named."""

from __future__ import annotations

from typing import Any

import pytest

from components.backup.escrow import manifests as m
from components.backup.escrow import secrets_job
from components.catalogue.model import Chart
from components.config.loader import load_factory_config
from components.config.problems import FactoryConfigError
from components.inventory import CATALOGUE, bundle
from offline.bundle import bundles
from offline.recover import main as recover
from offline.render import redact
from offline.stackfile import load_config
from offline.vault import addon_scopes, credential_script
from tests.support.factories import DELETE, mutate, valid_raw
from tests.support.projects import ROOT
from tests.support.runs import Runs, named

AGE = "age1j2zjzd2st6gjstjtxn22x6guxduy9ev3340sn7y4nvp93lpay5nqxrjp53"


def pod(recording: Any, name: str, cluster: str = "") -> dict[str, Any]:
    cron = redact(named(recording, f"{cluster}-recovery-escrow-cronjob-{name}").inputs)
    return cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]


@pytest.mark.parametrize("stack", ["dev", "pilsen", "rheinfeld"])
def test_the_bundle_is_every_image_and_chart_the_catalogue_installs(runs: Runs, stack: str) -> None:
    """Compared with the plan's own bundle (read from the recorded run): nothing installed is left out, nothing
    else is copied, and the scanners' moving databases are not images."""
    _settings, config = load_config(ROOT, stack)
    planned = bundles(runs.stack(stack).recording)
    for cluster in config.clusters:
        found = bundle(config, cluster)
        assert {image.pull for image in found.images} == set(planned[cluster.name].images())
        charts = {
            (r.addon.source.chart, r.addon.version)
            for r in planned[cluster.name].releases
            if isinstance(r.addon.source, Chart)
        }
        assert {(c.chart, c.version) for c in found.charts} == charts
        assert not {image.pull for image in found.images} & set(planned[cluster.name].artifacts())


def test_every_catalogue_chart_is_pinned_by_its_archive_digest() -> None:
    charts = [addon for addon in CATALOGUE.values() if isinstance(addon.source, Chart)]
    assert charts and all(addon.source.archive is not None for addon in charts)  # type: ignore[union-attr]
    for addon in charts:
        archive = addon.source.archive  # type: ignore[union-attr]
        assert archive is not None and f"{addon.version}.tgz" in archive.url


def test_a_mirror_serves_both_images_and_charts(runs: Runs) -> None:
    """Rheinfeld pulls through its Harbor: images from the mirror, charts as OCI artifacts of its chart mirror —
    named after the catalogue's reference, so the store's copy says what it is."""
    _settings, config = load_config(ROOT, "rheinfeld")
    found = bundle(config, config.cluster("plant"))
    assert all(i.pull.startswith("harbor.rheinfeld.example.com/mirror/") for i in found.images)
    assert all(
        c.oci and c.oci.startswith("harbor.rheinfeld.example.com/charts/") and c.url is None for c in found.charts
    )
    listed = m.oci_list(found)
    velero = next(i for i in found.images if "velero/velero:" in i.origin)
    digest = "11459094b1b21ec7c817b08f8067d9e89380835547915cac9c4132ff05b55b90"
    object_name = f"images/docker.io/velero/velero/v1.18.1@sha256-{digest}"
    # pulled by digest alone: skopeo refuses a reference with both a tag and a digest
    pull = f"harbor.rheinfeld.example.com/mirror/docker.io/velero/velero@sha256:{digest}"
    assert velero.pull == f"harbor.rheinfeld.example.com/mirror/docker.io/velero/velero:v1.18.1@sha256:{digest}"
    assert f"{pull} {object_name}\n" in listed
    assert "harbor.rheinfeld.example.com/charts/velero:12.1.0 charts/oci/velero-12.1.0\n" in listed
    assert m.charts_list(found) == ""


def test_object_names_hold_no_colon_and_images_are_pulled_by_digest() -> None:
    assert m.image_object("harbor.local:5000/lines/weld:1.2@sha256:" + "a" * 64) == (
        f"images/harbor.local_5000/lines/weld/1.2@sha256-{'a' * 64}"
    )
    assert m.image_object("docker.io/library/busybox:1.37.0") == "images/docker.io/library/busybox/1.37.0"
    assert (
        m.by_digest("harbor.local:5000/lines/weld:1.2@sha256:" + "a" * 64)
        == "harbor.local:5000/lines/weld@sha256:" + "a" * 64
    )
    assert m.by_digest("harbor.local:5000/lines/weld:1.2") == "harbor.local:5000/lines/weld:1.2"


def test_upstream_charts_are_downloaded_and_checked_against_the_catalogue(runs: Runs) -> None:
    recording = runs.stack("pilsen").recording
    scripts = redact(named(recording, "recovery-escrow-configmap").inputs)["data"]
    falco = next(a for a in CATALOGUE.values() if a.name == "falco").source
    assert isinstance(falco, Chart) and falco.archive is not None
    assert f"{falco.archive.url} charts/falco-9.1.0.tgz {falco.archive.digest}\n" in scripts["charts.list"]
    assert scripts["charts.list"].count("charts/falco-9.1.0.tgz") == 1  # falco and falco-k8saudit: one chart
    assert scripts["recipients"] == ",".join(load_config(ROOT, "pilsen")[1].backup.etcd.recipients)  # type: ignore[union-attr]


def test_every_escrow_pod_is_restricted_and_has_no_api_token(runs: Runs) -> None:
    recording = runs.stack("pilsen").recording
    for name in ("escrow-images-aws", "escrow-images-azure", "escrow-secrets-aws", "escrow-secrets-azure"):
        spec = pod(recording, name)
        assert spec["automountServiceAccountToken"] is False and spec["serviceAccountName"] == "escrow"
        assert spec["securityContext"]["runAsNonRoot"] is True
        # the credential Secret's files are 0440 and the group's: readable by the containers' user only
        assert spec["securityContext"]["fsGroup"] == spec["securityContext"]["runAsUser"] == 65534
        for container in [*spec["initContainers"], *spec["containers"]]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
            assert container["resources"]["limits"]["memory"] and "@sha256:" in container["image"]
        projected = [v for v in spec["volumes"] if "projected" in v]
        tokens = [s["serviceAccountToken"] for v in projected for s in v["projected"]["sources"]]
        assert tokens == (
            [{"path": "token", "audience": "vault", "expirationSeconds": 600}] if "secrets" in name else []
        )


def test_the_plaintext_export_lives_in_memory_and_only_the_export_and_encrypt_steps_see_it(runs: Runs) -> None:
    spec = pod(runs.stack("pilsen").recording, "escrow-secrets-aws")
    plain = next(v for v in spec["volumes"] if v["name"] == "plain")
    assert plain["emptyDir"]["medium"] == "Memory"
    seeing = [
        c["name"]
        for c in [*spec["initContainers"], *spec["containers"]]
        if any(v["name"] == "plain" for v in c["volumeMounts"])
    ]
    assert seeing == ["export", "encrypt"]
    ca = next(v for v in spec["volumes"] if v["name"] == "vault-ca")
    assert ca["configMap"]["name"] == "vault-ca"  # pilsen's Vault has a private CA (security.vault.ca)


def test_credentials_come_from_vault_off_the_native_cloud_and_from_the_identity_on_it(runs: Runs) -> None:
    """pilsen's k3s cluster has no cloud identity: both stores by credential (Azure's is Velero's one service
    principal, copied into the escrow's folder too); rheinfeld's EKS cluster writes its AWS store as itself."""
    pilsen = runs.stack("pilsen").recording
    aws = pod(pilsen, "escrow-images-aws")["containers"][0]
    assert {"name": "AWS_SHARED_CREDENTIALS_FILE", "value": "/var/run/secrets/escrow-store/cloud"} in aws["env"]
    azure = pod(pilsen, "escrow-images-azure")["containers"][0]
    assert {"name": "ESCROW_CREDENTIAL_ENV", "value": "/var/run/secrets/escrow-store/cloud"} in azure["env"]
    secrets = {
        redact(r.inputs)["spec"]["target"]["name"]
        for r in pilsen.of_type("kubernetes:external-secrets.io/v1:ExternalSecret")
        if redact(r.inputs)["metadata"]["namespace"] == "escrow"
    }
    assert secrets == {"escrow-aws", "escrow-azure"}
    rheinfeld = runs.stack("rheinfeld").recording
    native = pod(rheinfeld, "escrow-images-aws", cluster="cloud")
    assert not [v for v in native["volumes"] if v["name"] == "credential"]
    role_policy = named(rheinfeld, "rheinfeld-cloud-recovery-escrow-writer-aws")
    assert role_policy.type == "aws:iam/rolePolicy:RolePolicy"


def test_each_writer_may_write_its_clusters_escrow_prefix_only(runs: Runs) -> None:
    recording = runs.stack("pilsen").recording
    group_policy = named(recording, "pilsen-shopfloor-recovery-escrow-writer-aws")
    assert group_policy.inputs["name"] == "backup-store-escrow-shopfloor"
    assert group_policy.type == "aws:iam/groupPolicy:GroupPolicy"
    assert group_policy.inputs["group"] == named(recording, "escrow-writer-aws-group").inputs["name"]
    # Azure grants no prefix: the one service principal keeps Velero's assignment, no second identical one
    assert not [r for r in recording.resources if r.name.endswith("escrow-writer-azure")]
    store = redact(named(recording, "recovery-escrow-store-aws").inputs)["data"]
    # the trailing slash: rclone takes the prefix for a directory without asking S3 for an object of its name
    assert store["ESCROW_TARGET"] == "store:pilsen-backup-210987654321-eu-central-1/escrow/shopfloor/"
    assert (
        store["RCLONE_CONFIG_STORE_SERVER_SIDE_ENCRYPTION"] == "aws:kms"
        and "RCLONE_CONFIG_STORE_SSE_KMS_KEY_ID" in store
    )
    assert not [k for k in store if "SECRET" in k or "ACCESS_KEY" in k]


def test_the_credentials_script_and_the_vault_role_of_the_escrow() -> None:
    _settings, config = load_config(ROOT, "pilsen")
    cluster = config.cluster("shopfloor")
    script = credential_script(config, cluster)
    assert script is not None
    assert "aws iam create-access-key --user-name pilsen-shopfloor-escrow" in script
    assert "vault kv put -mount=pilsen shopfloor/addon.escrow/aws cloud=@escrow-aws.cred" in script
    assert "vault kv put -mount=pilsen shopfloor/addon.escrow/azure cloud=@velero-azure.cred" in script
    assert script.count("az ad app credential reset") == 1  # one secret for the one principal
    export = next(s for s in addon_scopes(config, cluster) if s.role.endswith(".escrow.export"))
    assert (export.folder, export.namespace, export.service_account, export.audience) == (
        "shopfloor",
        "escrow",
        "escrow",
        "vault",
    )
    assert 'path "pilsen/data/shopfloor/*"' in export.policy_hcl("pilsen")
    settings = secrets_job.export_settings(config, cluster)
    assert settings["role"] == export.role and settings["folder"] == "shopfloor" and settings["kvMount"] == "pilsen"


def test_the_secret_export_needs_age_recipients_in_production() -> None:
    no_keys = mutate(valid_raw(), "backup.etcd", DELETE)
    # no k3s cluster: production needs no etcd snapshots
    no_keys = mutate(mutate(no_keys, "clusters.0.distribution", "eks"), "clusters.0.networkPolicy", "calico")
    with pytest.raises(FactoryConfigError) as error:
        load_factory_config(no_keys)
    assert "factory-floor:backup.escrow.recipients: production exports the cluster's Vault secrets" in str(error.value)
    assert load_factory_config(mutate(no_keys, "backup.escrow", {"recipients": [AGE]})).backup.escrow.recipients == [
        AGE
    ]
    staging = load_factory_config(mutate(no_keys, "environment", "staging"))
    assert staging.backup.escrow.recipients is None  # no keys, no export: nothing could read it


def test_escrow_recipients_are_age_keys() -> None:
    pgp = "-----BEGIN PGP PUBLIC KEY BLOCK-----\nmQENBF...\n-----END PGP PUBLIC KEY BLOCK-----"
    with pytest.raises(FactoryConfigError) as error:
        load_factory_config(mutate(valid_raw(), "backup.escrow", {"recipients": [pgp]}))
    assert "factory-floor:backup.escrow.recipients: the secret export is encrypted with sops to age" in str(error.value)


def test_production_keeps_the_secret_export_on() -> None:
    with pytest.raises(FactoryConfigError) as error:
        load_factory_config(mutate(valid_raw(), "backup.escrow", {"secrets": False}))
    assert "factory-floor:backup.escrow.secrets: false: production keeps an encrypted export" in str(error.value)


def test_a_private_key_as_escrow_recipient_is_refused_without_echoing_it() -> None:
    secret = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"
    with pytest.raises(FactoryConfigError) as error:
        load_factory_config(mutate(valid_raw(), "backup.escrow", {"recipients": [secret]}))
    assert "backup.escrow.recipients[0]" in str(error.value) and "PRIVATE key" in str(error.value)
    assert secret not in str(error.value)


def test_the_site_lost_procedure_says_where_the_mirror_and_vault_come_back_from(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert recover(["--stack", "rheinfeld", "--scenario", "site-lost"]) == 0
    text = capsys.readouterr().out
    assert "the site's registry mirror `harbor.rheinfeld.example.com/mirror`" in text
    assert "comes back from the escrow under `escrow/plant/`, `escrow/cloud/` of any store" in text
