"""The configuration reference users read is the one the models generate."""

from pathlib import Path

from offline.config_reference import render

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
