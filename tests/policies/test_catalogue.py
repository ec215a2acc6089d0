"""docs/policies.md is generated from the policies' own metadata and kept in sync."""

from __future__ import annotations

from pathlib import Path

import factory_policies as fp
from factory_policies.settings import EXEMPT_NAMESPACES, SETTINGS
from offline.policy_catalogue import render

ROOT = Path(__file__).resolve().parents[2]


def test_catalogue_is_current() -> None:
    committed = (ROOT / "docs" / "policies.md").read_text()
    assert committed == render(), (
        "docs/policies.md is stale: run `python -m offline.policy_catalogue > docs/policies.md`"
    )


def test_catalogue_documents_every_policy_setting_and_exemption() -> None:
    text = render()
    for policy in fp.ALL_POLICIES:
        assert f'<a id="{policy.name}"></a>' in text
        assert str(policy.remediation_steps) in text
        assert all(f"`{control.tag}`" in text for control in policy.controls)
    for key in SETTINGS:
        assert f"| `{key}` |" in text
    for namespace, reason in EXEMPT_NAMESPACES.items():
        assert f"| `{namespace}` | {reason} |" in text
    assert '"enforcementLevel"' in text and '"all": "mandatory"' in text
