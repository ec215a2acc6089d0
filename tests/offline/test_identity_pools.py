"""Finding 9 (#9), GCP: a line's GCP service account trusts `<project>.svc.id.goog[line-<line>/line-workload]`,
which names no cluster. Two factories on one GCP project with a line of the same name could act as each other's
line: `make plan` of either refuses it (exit 2), naming both stacks; a different name or project plans."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from components.config.loader import load_factory_config
from offline import plan
from offline.identity_pools import gke_members, shared_members
from tests.support.factories import mutate, secure_raw
from tests.support.projects import project_copy


def factory(name: str, project: str = "plant-analytics", line: str = "mes") -> dict[str, Any]:
    raw = mutate(secure_raw("gcp"), "factory.name", name)
    raw = mutate(raw, "clusters.1.workloadIdentity.gcp.project", project)
    return mutate(raw, "lines.2.name", line)


def stack_file(raw: dict[str, Any]) -> str:
    """The raw config as a stack file: secret values as `secure:` ciphertext the offline plan cannot read."""
    config = {f"factory-floor:{k}": ({"secure": "AAABAC0ffee"} if v == "[secret]" else v) for k, v in raw.items()}
    return yaml.safe_dump({"config": config}, sort_keys=False)


def test_two_factories_on_one_project_with_the_same_line_name_collide() -> None:
    paint, body = load_factory_config(factory("paint")), load_factory_config(factory("body"))
    [message] = shared_members("paint", paint, {"body": body})
    assert "stack 'paint' (line 'mes' on cluster 'cloud') and stack 'body' (line 'mes' on cluster 'cloud')" in message
    assert "serviceAccount:plant-analytics.svc.id.goog[line-mes/line-workload]" in message


def test_another_project_or_another_name_does_not_collide() -> None:
    paint = load_factory_config(factory("paint"))
    assert (
        shared_members("paint", paint, {"body": load_factory_config(factory("body", project="body-analytics"))}) == []
    )
    assert shared_members("paint", paint, {"body": load_factory_config(factory("body", line="body-mes"))}) == []
    # lines on clusters without GKE Workload Identity are trusted as no member at all
    assert set(gke_members(paint)) == {("plant-analytics.svc.id.goog", "line-mes", "line-workload")}


def test_make_plan_refuses_the_stack_and_names_both(tmp_path: Path, capsys: Any) -> None:
    project = project_copy(tmp_path, {"paint": stack_file(factory("paint")), "body": stack_file(factory("body"))})
    code = plan.main(["--stack", "paint", "--project-dir", str(project), "--out", str(tmp_path / "build")])
    assert code == plan.EXIT_CONFIG
    error = capsys.readouterr().err
    assert "stack 'paint'" in error and "stack 'body'" in error and "line-mes/line-workload" in error
    assert not (tmp_path / "build" / "paint").exists()  # nothing planned, nothing written
