"""Grafana dashboards as code, built with Grafana's own Foundation SDK (its builders and models, Grafana 11.6
schema) from the same SLOs and KPI rules the alerts use — never drawn by hand:

- `factory-overview`: per line its availability over the last hour, the error budget left of each SLO, the OEE of
  the shift; per cluster the platform's SLOs;
- `slo-<line>`: per SLO of the line the error ratio over the alert windows against the page and ticket
  thresholds, the current burn rate and the budget left over 30 days;
- `oee`: OEE and its three factors per line, over the hour and the shift;
- `security`: Falco events by priority and its busiest rules, trivy-operator's findings by severity, Gatekeeper's
  audit violations, the CIS benchmark's pass rate.

The SLO and OEE panels read recorded series (slo:*, line:oee*), so they cost Prometheus nothing and show exactly
what an alert evaluates; the security panels read the add-ons' own metrics. The data source is a dashboard
variable (any Prometheus, named at import). A pure builder: the JSON goes into ConfigMaps for the Grafana sidecar
(label `grafana_dashboard`); the tests decode it with the SDK's models and parse every query with promtool.
"""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as models

from components.config.document import FactoryConfig
from components.config.lines import LineConfig
from components.observability.kpi import WINDOWS as KPI_WINDOWS
from components.observability.slo.burn import WINDOWS as BURN_WINDOWS
from components.observability.slo.catalogue import line_slos
from components.observability.slo.model import Slo

DATASOURCE = models.DataSourceRef(type_val="prometheus", uid="${datasource}")
TAGS = ["factory-floor", "generated"]
FOLDER = "factory-floor"  # grafana_folder annotation of the ConfigMaps: one folder per factory's dashboards


WIDTH = 24  # Grafana's grid


class Grid:
    """Where the next panel goes: left to right, wrapping at the grid's width (the SDK's own placement lets a panel
    run past the right edge), a row on a line of its own."""

    def __init__(self, board: db.Dashboard) -> None:
        self.board, self.x, self.y, self.height = board, 0, 0, 0

    def row(self, title: str) -> None:
        self._newline()
        self.board = self.board.with_row(db.Row(title).grid_pos(models.GridPos(h=1, w=WIDTH, x=0, y=self.y)))
        self.y += 1

    def panel(self, panel: Any, width: int, height: int) -> None:
        if self.x + width > WIDTH:
            self._newline()
        self.board = self.board.with_panel(panel.grid_pos(models.GridPos(h=height, w=width, x=self.x, y=self.y)))
        self.x, self.height = self.x + width, max(self.height, height)

    def _newline(self) -> None:
        self.x, self.y, self.height = 0, self.y + self.height, 0


def _query(expr: str, legend: str, ref: str = "A") -> prometheus.Dataquery:
    return prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(ref).datasource(DATASOURCE)


def _datasource_variable() -> db.DatasourceVariable:
    return db.DatasourceVariable("datasource").label("Prometheus").type("prometheus")


def _thresholds(*steps: tuple[float | None, str]) -> db.ThresholdsConfig:
    return (
        db.ThresholdsConfig()
        .mode(models.ThresholdsMode.ABSOLUTE)
        .steps([models.Threshold(value=value, color=color) for value, color in steps])
    )


def _base(config: FactoryConfig, uid: str, title: str) -> db.Dashboard:
    return (
        db.Dashboard(f"{config.factory.name}: {title}")
        .uid(f"{config.factory.name}-{uid}"[:40])
        .tags([*TAGS, config.factory.name])
        .refresh("1m")
        .time("now-24h", "now")
        .timezone(config.factory.timezone)
        .readonly()
        .with_variable(_datasource_variable())
    )


def _selector(slo: Slo) -> str:
    return f'sloth_id="{slo.id}"'


def _budget_left(slo: Slo) -> stat.Panel:
    return (
        stat.Panel()
        .title(f"{slo.service} {slo.name}: budget left")
        .description(f"Error budget of {slo.objective * 100:g} % over 30 days still unspent.")
        .unit("percentunit")
        .min(0)
        .max(1)
        .thresholds(_thresholds((None, "red"), (0.25, "orange"), (0.5, "green")))
        .with_target(_query(f"slo:period_error_budget_remaining:ratio{{{_selector(slo)}}}", slo.name))
    )


STAT = (6, 4)  # width, height: four to a line
GRAPH = (12, 8)


def factory_overview(config: FactoryConfig, platform: list[Slo]) -> db.Dashboard:
    grid = Grid(_base(config, "overview", "factory overview"))
    for line in config.lines:
        grid.row(f"Line {line.name} ({line.criticality}, team {line.team})")
        slos = line_slos(config, line)
        availability = slos[0]
        grid.panel(
            stat.Panel()
            .title(f"{line.name}: availability (1 h)")
            .unit("percentunit")
            .decimals(3)
            .thresholds(_thresholds((None, "red"), (availability.objective, "green")))
            .with_target(_query(f"1 - slo:sli_error:ratio_rate1h{{{_selector(availability)}}}", line.name)),
            *STAT,
        )
        for slo in slos:
            grid.panel(_budget_left(slo), *STAT)
        grid.panel(
            stat.Panel()
            .title(f"{line.name}: OEE (shift)")
            .unit("percentunit")
            .thresholds(_thresholds((None, "red"), (0.6, "orange"), (0.85, "green")))
            .with_target(_query(f'line:oee:ratio_rate8h{{namespace="{line.namespace}"}}', line.name)),
            *STAT,
        )
    grid.row("Platform")
    for slo in platform:
        grid.panel(_budget_left(slo), *STAT)
    return grid.board


def line_slo(config: FactoryConfig, line: LineConfig) -> db.Dashboard:
    grid = Grid(_base(config, f"slo-{line.name}", f"line {line.name}, SLOs and error budgets"))
    for slo in line_slos(config, line):
        grid.row(f"{slo.name}: {slo.objective * 100:g} % over 30 days")
        ratio = timeseries.Panel().title(f"{slo.name}: error ratio by window").unit("percentunit").min(0)
        for i, window in enumerate(("5m", "1h", "6h", "1d")):
            ratio = ratio.with_target(
                _query(f"slo:sli_error:ratio_rate{window}{{{_selector(slo)}}}", window, chr(ord("A") + i))
            )
        # the thresholds of the alert pairs, as flat lines: the long window crossing one (and its short one) alerts
        for i, pair in enumerate(BURN_WINDOWS):
            ratio = ratio.with_target(
                _query(
                    f"vector({pair.threshold(slo.objective)})",
                    f"{pair.severity} threshold ({pair.long}/{pair.short})",
                    chr(ord("E") + i),
                )
            )
        grid.panel(ratio, *GRAPH)
        grid.panel(
            timeseries.Panel()
            .title(f"{slo.name}: burn rate")
            .description("1 spends exactly the 30-day budget; 14.4 pages when it holds for an hour.")
            .min(0)
            .with_target(_query(f"slo:current_burn_rate:ratio{{{_selector(slo)}}}", "now (5m)"))
            .with_target(_query(f"slo:period_burn_rate:ratio{{{_selector(slo)}}}", "30 days", "B")),
            *GRAPH,
        )
        grid.panel(_budget_left(slo), *STAT)
    return grid.board


def oee(config: FactoryConfig) -> db.Dashboard:
    grid = Grid(_base(config, "oee", "OEE per line and shift"))
    for window, what in KPI_WINDOWS.items():
        grid.row(f"OEE over {what}")
        for factor in ("oee", "oee_availability", "oee_performance", "oee_quality"):
            title = "OEE" if factor == "oee" else factor.removeprefix("oee_").capitalize()
            grid.panel(
                timeseries.Panel()
                .title(f"{title} ({window})")
                .unit("percentunit")
                .min(0)
                .max(1)
                .with_target(_query(f"line:{factor}:ratio_rate{window}", "{{namespace}}")),
                *GRAPH,
            )
    return grid.board


# Falco numbers priorities 0 (Emergency) to 7 (Debug) in falcosecurity_falco_rules_matches_total (Falco 0.44.1)
FALCO_PRIORITIES = ("Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug")
CIS_REPORT = 'title=~"CIS Kubernetes.*"'  # trivy-operator's default k8s-cis compliance report


def security(config: FactoryConfig) -> db.Dashboard:
    """The seed's security dashboard, from the metrics the security add-ons expose at their pinned versions (read at
    falcosecurity/falco 0.44.1, aquasecurity/trivy-operator 0.26.1, open-policy-agent/gatekeeper 3.22.0)."""
    grid = Grid(_base(config, "security", "security"))
    grid.row("Runtime: Falco")
    events = timeseries.Panel().title("Falco events by priority (per second)").min(0)
    for number, name in enumerate(FALCO_PRIORITIES):
        expr = f'sum(rate(falcosecurity_falco_rules_matches_total{{priority="{number}"}}[$__rate_interval]))'
        events = events.with_target(_query(expr, name, chr(ord("A") + number)))
    grid.panel(events, *GRAPH)
    grid.panel(
        timeseries.Panel()
        .title("Falco: the ten rules matching most (last hour)")
        .with_target(
            _query(
                "topk(10, sum by (rule_name) (increase(falcosecurity_falco_rules_matches_total[1h])))", "{{rule_name}}"
            )
        ),
        *GRAPH,
    )
    grid.row("Images and configuration: trivy-operator")
    for metric, title in (
        ("trivy_image_vulnerabilities", "Vulnerabilities in running images"),
        ("trivy_image_exposedsecrets", "Secrets exposed in images"),
        ("trivy_resource_configaudits", "Configuration audit findings"),
    ):
        grid.panel(
            timeseries.Panel()
            .title(f"{title}, by severity")
            .min(0)
            .with_target(_query(f"sum by (severity) ({metric})", "{{severity}}")),
            8,
            8,
        )
    grid.row("Admission and benchmarks")
    grid.panel(
        timeseries.Panel()
        .title("Gatekeeper: violations found by the last audit, by enforcement action")
        .description(
            "Gatekeeper 3.22 exports violations per enforcement action only; per constraint they are in each "
            "constraint's status.totalViolations (kubectl get constraints)."
        )
        .min(0)
        .with_target(_query("max by (enforcement_action) (gatekeeper_violations)", "{{enforcement_action}}")),
        *GRAPH,
    )
    grid.panel(
        stat.Panel()
        .title("CIS Kubernetes benchmark: share of controls passing")
        .description(
            "trivy-operator's CIS compliance report (controls, not individual checks; a control with no result "
            "counts as passing). kube-bench's own results are JSON on its nodes and have no metric."
        )
        .unit("percentunit")
        .thresholds(_thresholds((None, "red"), (0.8, "orange"), (0.95, "green")))
        .with_target(
            _query(
                f'sum(trivy_cluster_compliance{{{CIS_REPORT}, status="Pass"}}) '
                f"/ sum(trivy_cluster_compliance{{{CIS_REPORT}}})",
                "pass rate",
            )
        ),
        *STAT,
    )
    return grid.board


def dashboards(config: FactoryConfig, platform: list[Slo]) -> dict[str, dict[str, Any]]:
    """File name -> dashboard JSON (as Grafana imports it)."""
    built = {
        "factory-overview.json": factory_overview(config, platform),
        "oee.json": oee(config),
        "security.json": security(config),
        **{f"slo-{line.name}.json": line_slo(config, line) for line in config.lines},
    }
    encoder = JSONEncoder(sort_keys=True)
    return {name: json.loads(encoder.encode(board.build())) for name, board in built.items()}
