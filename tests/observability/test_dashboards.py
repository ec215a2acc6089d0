"""The generated dashboards: Grafana's own models decode every one; every panel query passes promtool's parser
and reads only series our rules record; panels stay inside the grid without overlapping; every line gets its SLO
dashboard and its place on the overview."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models.dashboard import Dashboard as DashboardModel

from offline.rules import DASHBOARDS_DIR, write_rules
from offline.stackfile import load_config
from tests.support.projects import ROOT
from tests.support.prometheus_rules import check_rules, write_rule_file

RECORDED = ("slo:", "line:oee", "vector(")  # what SLO and OEE panels read: our recorded series, constant lines
# the security dashboard reads the security add-ons' own metrics (names as exposed at their pinned versions)
ADDON_METRICS = ("falcosecurity_falco_rules_matches_total", "trivy_", "gatekeeper_violations")


def panels(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in document["panels"] if p["type"] != "row"]


def queries(document: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in panels(document) for target in panel.get("targets", [])]


@pytest.fixture(scope="module", params=["dev", "pilsen", "rheinfeld"])
def written(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    _settings, config = load_config(ROOT, request.param)
    out = tmp_path_factory.mktemp(request.param)
    write_rules(out, config)
    return config, out / DASHBOARDS_DIR


def test_every_line_has_its_dashboard_and_its_place_on_the_overview(written: tuple[Any, Path]) -> None:
    config, directory = written
    names = sorted(p.name for p in directory.iterdir())
    fixed = ["factory-overview.json", "oee.json", "security.json"]
    assert names == sorted([*fixed, *(f"slo-{line.name}.json" for line in config.lines)])
    overview = json.loads((directory / "factory-overview.json").read_text())
    rows = [p["title"] for p in overview["panels"] if p["type"] == "row"]
    assert [r.split()[1] for r in rows if r.startswith("Line ")] == [line.name for line in config.lines]
    assert rows[-1] == "Platform"
    uids = {json.loads(p.read_text())["uid"] for p in directory.iterdir()}
    assert len(uids) == len(names), "every dashboard has its own uid"


def test_grafanas_models_decode_every_dashboard(written: tuple[Any, Path]) -> None:
    register_default_plugins()
    _config, directory = written
    for path in sorted(directory.iterdir()):
        document = json.loads(path.read_text())
        decoded = DashboardModel.from_json(document)
        assert decoded.title == document["title"] and decoded.uid == document["uid"]
        assert len(decoded.panels or []) == len(document["panels"]), path.name


def test_every_query_parses_and_reads_only_recorded_series(written: tuple[Any, Path], tmp_path: Path) -> None:
    _config, directory = written
    expressions = sorted({expr for path in directory.iterdir() for expr in queries(json.loads(path.read_text()))})
    assert expressions and all(
        expr.startswith(RECORDED) or "slo:" in expr or any(m in expr for m in ADDON_METRICS) for expr in expressions
    )
    # promtool parses every expression of a rule file: each query becomes one recording rule (Grafana's own
    # $__rate_interval replaced by a duration, as Grafana does before it sends the query)
    rules = [
        {"record": f"dashboard:query:{i}", "expr": expr.replace("$__rate_interval", "5m")}
        for i, expr in enumerate(expressions)
    ]
    document = {"groups": [{"name": "dashboard-queries", "rules": rules}]}
    assert f"SUCCESS: {len(rules)} rules found" in check_rules(tmp_path, write_rule_file(tmp_path, "q.yaml", document))


def test_panels_stay_inside_the_grid_and_never_overlap(written: tuple[Any, Path]) -> None:
    _config, directory = written
    for path in sorted(directory.iterdir()):
        taken: set[tuple[int, int]] = set()
        for panel in json.loads(path.read_text())["panels"]:
            pos = panel["gridPos"]
            assert pos["x"] + pos["w"] <= 24, (path.name, panel.get("title"))
            cells = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"]) for y in range(pos["y"], pos["y"] + pos["h"])}
            assert not cells & taken, (path.name, panel.get("title"))
            taken |= cells


def test_the_security_dashboard_reads_the_add_ons_metrics_as_they_name_them(written: tuple[Any, Path]) -> None:
    _config, directory = written
    board = json.loads((directory / "security.json").read_text())
    by_title = {p["title"]: p for p in panels(board)}
    falco = by_title["Falco events by priority (per second)"]["targets"]
    # Falco numbers priorities (0 Emergency ... 7 Debug); Falcosidekick counts the other way round
    warning = next(t for t in falco if t["legendFormat"] == "Warning")
    assert 'priority="4"' in warning["expr"] and len(falco) == 8
    assert by_title["Vulnerabilities in running images, by severity"]["targets"][0]["expr"] == (
        "sum by (severity) (trivy_image_vulnerabilities)"
    )
    cis = by_title["CIS Kubernetes benchmark: share of controls passing"]["targets"][0]["expr"]
    assert 'status="Pass"' in cis and "trivy_cluster_compliance" in cis
