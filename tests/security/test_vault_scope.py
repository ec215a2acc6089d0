"""What Vault must hold so that each line reads its own secret folder and nothing else — the policy and role
per line that `make plan` writes for the Vault administrator."""

from __future__ import annotations

from pathlib import Path

from components.catalogue.secrets import vault_role
from components.config.loader import load_factory_config
from components.security.secrets.vault import line_access, setup_script
from offline.vault import write_vault_setup
from tests.support.factories import DELETE, mutate, secure_raw


def test_a_lines_policy_reads_only_its_own_folder() -> None:
    config = load_factory_config(secure_raw())
    assert config.security.vault is not None
    access = line_access(config.security.vault, config.cluster("cloud"), config.lines[2])
    assert access.role == access.policy == "external-secrets-cloud.mes"
    assert access.policy_hcl("plant") == (
        'path "plant/data/cloud/mes/*" {\n  capabilities = ["read"]\n}\n'
        'path "plant/metadata/cloud/mes/*" {\n  capabilities = ["read", "list"]\n}\n'
    )


def test_the_setup_script_binds_each_role_to_the_lines_own_account_only() -> None:
    config = load_factory_config(secure_raw())
    assert config.security.vault is not None
    script = setup_script(config.security.vault, config.cluster("cloud"), [config.lines[2]])
    assert "vault write auth/kubernetes/role/external-secrets-cloud.mes \\" in script
    assert "  bound_service_account_names=line-secrets \\\n  bound_service_account_namespaces=line-mes \\" in script
    assert "press" not in script and "weld" not in script, "lines without secrets get no role"


def test_make_plan_writes_one_script_per_cluster_with_secrets(tmp_path: Path) -> None:
    raw = mutate(secure_raw(), "lines.0.secrets", [{"name": "plc", "remoteKey": "plc", "properties": ["password"]}])
    written = write_vault_setup(tmp_path, load_factory_config(raw))
    # and the k3s cluster's store credentials (tests/backup/test_writers.py)
    assert sorted(p.name for p in (tmp_path / "vault").iterdir()) == ["cloud.sh", "edge-credentials.sh", "edge.sh"]
    assert len(written) == 3
    assert 'path "plant/data/edge/press/*"' in (tmp_path / "vault" / "edge.sh").read_text()
    no_line_secrets = mutate(secure_raw(), "lines.2.secrets", [])
    [setup, credentials, cloud] = write_vault_setup(tmp_path, load_factory_config(no_line_secrets))
    # the escrow's secret export on both clusters; on edge also Velero's and the escrow's store credentials; on
    # cloud also Alertmanager's receivers and Grafana's login (kube-prometheus-stack)
    assert "cloud.sh (Vault policies and roles for 0 line(s), 2 add-on(s))" in cloud
    assert "edge.sh (Vault policies and roles for 0 line(s), 3 add-on(s))" in setup
    assert "edge-credentials.sh" in credentials
    without_escrow = mutate(no_line_secrets, "backup.escrow", {"secrets": False, "images": False})
    without_escrow = mutate(without_escrow, "environment", "staging")
    [setup, credentials, cloud] = write_vault_setup(tmp_path, load_factory_config(without_escrow))
    assert "cloud.sh (Vault policies and roles for 0 line(s), 1 add-on(s))" in cloud, "kube-prometheus-stack's"
    assert "edge.sh (Vault policies and roles for 0 line(s), 1 add-on(s))" in setup, "Velero's store credential"
    scripts = sorted(p.name for p in (tmp_path / "vault").glob("*.sh"))
    assert scripts == ["cloud.sh", "edge-credentials.sh", "edge.sh"]
    # no backups, no receivers: only Grafana's login on cloud is left, and the edge scripts go
    disposable = mutate(mutate(no_line_secrets, "environment", "staging"), "backup", {})
    disposable = mutate(
        mutate(mutate(disposable, "teams.0.alerting", DELETE), "teams.1.alerting", DELETE), "observability", {}
    )
    [cloud] = write_vault_setup(tmp_path, load_factory_config(disposable))
    assert "cloud.sh (Vault policies and roles for 0 line(s), 1 add-on(s))" in cloud
    scripts = sorted(p.name for p in (tmp_path / "vault").glob("*.sh"))
    assert scripts == ["cloud.sh"], "an earlier script no longer true goes"


def test_roles_of_different_cluster_and_line_names_never_coincide() -> None:
    """Cluster 'a-b' with line 'c' and cluster 'a' with line 'b-c' share an auth mount on a shared Vault: one
    role name for both would let the second `vault write` rebind the first line's role to the other line."""
    config = load_factory_config(secure_raw())
    assert config.security.vault is not None
    vault = config.security.vault
    assert vault_role(vault, "a-b", "c") != vault_role(vault, "a", "b-c")
    assert vault_role(vault, "a-b", "c") == "external-secrets-a-b.c"
