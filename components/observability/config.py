"""Config of observability: each line's service-level objectives beyond availability (`lines[].slo`), each team's
alert receivers (`teams[].alerting`), and the factory's alert routing (`observability`): who gets platform alerts,
the mail relay, maintenance windows. Receiver secrets (routing keys, API keys, webhook URLs, the relay's password)
are Vault keys only; External Secrets delivers them to Alertmanager as files, never through the program.

A line's availability objective stays `lines[].sloTarget`; the rules are generated from both
(components/observability/slo/)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from components.config.problems import Problems, field, names, present
from components.config.types import HttpsUrl, Name, StrictModel, VaultPath, pattern

# the operation-duration buckets every line exposes (seconds; docs/observability.md, the metric contract): a latency
# threshold must be one of them, since a histogram answers "how many were faster than X" only at its boundaries
OPERATION_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# the fastest page's burn rate (slo/burn.py): below 1 - 1/14.4 its threshold would exceed an error ratio of 1
FASTEST_PAGE_BURN = 14.4
LOWEST_ALERTABLE_OBJECTIVE = 1 - 1 / FASTEST_PAGE_BURN

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
ClockTime = Annotated[str, AfterValidator(pattern(re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$"), "HH:MM"))]
UrlAnywhere = Annotated[
    str, AfterValidator(pattern(re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/\S*)?$"), "an http(s):// URL"))
]
Objective = Annotated[float, Field(gt=90, lt=100)]


class LatencySlo(StrictModel):
    target: Objective = Field(default=99.0, description="Percent of operations faster than `thresholdSeconds`.")
    threshold_seconds: float = Field(
        default=0.5,
        description=(
            "What counts as fast enough: one of the metric contract's buckets of "
            "`factory_line_operation_duration_seconds` (docs/observability.md)."
        ),
    )

    @field_validator("threshold_seconds")
    @classmethod
    def _a_bucket(cls, value: float) -> float:
        if value not in OPERATION_BUCKETS:
            buckets = ", ".join(f"{b:g}" for b in OPERATION_BUCKETS)
            raise ValueError(
                f"{value:g} s is not a bucket of the operation-duration histogram, so no rule could count the "
                f"operations faster than it: use one of {buckets}"
            )
        return value


class ThroughputSlo(StrictModel):
    target: Objective = Field(default=99.0, description="Percent of production cycles finished within the takt time.")
    takt_seconds: float = Field(
        gt=0,
        le=86400,
        description=(
            "The line's takt time: a cycle slower than it is a miss. The line's `factory_line_cycle_duration_seconds` "
            "histogram must have a bucket at exactly this value."
        ),
    )


class LineSloConfig(StrictModel):
    probe: UrlAnywhere | None = Field(
        default=None,
        description=(
            "Measure availability by probing this URL (blackbox exporter, `probe_success`) instead of the line's "
            "`factory_line_operations_total`: for a line whose software exposes no metrics."
        ),
    )
    latency: LatencySlo | None = Field(default=None, description="A latency objective (none by default).")
    throughput: ThroughputSlo | None = Field(default=None, description="A throughput objective (none by default).")


ReceiverKind = Literal["pagerduty", "opsgenie", "slack", "email"]
# the Vault field each kind reads its secret from, and the Alertmanager setting that reads it as a file
SECRET_FIELD: dict[str, str] = {"pagerduty": "routingKey", "opsgenie": "apiKey", "slack": "url", "email": ""}


class ReceiverConfig(StrictModel):
    kind: ReceiverKind = Field(description="Where alerts go: pagerduty, opsgenie, slack or email.")
    remote_key: VaultPath | None = Field(
        default=None,
        description=(
            "Vault key of the receiver's secret under the alerting scope of each cluster that runs Alertmanager "
            "(`<cluster>/addon.alertmanager/<remoteKey>`): field `routingKey` (pagerduty), `apiKey` (opsgenie) or "
            "`url` (slack). Not for email (its relay's password is `observability.alerting.smtp`)."
        ),
    )
    channel: str | None = Field(default=None, description="Slack channel, e.g. `#weld-oncall` (slack only).")
    to: str | None = Field(default=None, description="Mail address (email only).")

    @model_validator(mode="after")
    def _settings_of_kind(self) -> ReceiverConfig:
        if self.kind == "email":
            if not self.to or self.remote_key is not None:
                raise ValueError(
                    "an email receiver sets `to` and no `remoteKey` (the relay is observability.alerting.smtp)"
                )
        elif self.remote_key is None or self.to is not None:
            raise ValueError(
                f"a {self.kind} receiver sets `remoteKey` (Vault field `{SECRET_FIELD[self.kind]}`) and no `to`"
            )
        if (self.channel is not None) != (self.kind == "slack"):
            raise ValueError("`channel` is for slack receivers, and a slack receiver needs one")
        return self


class TeamAlerting(StrictModel):
    page: ReceiverConfig = Field(description="The team's on-call: pages (an error budget burning fast).")
    ticket: ReceiverConfig = Field(description="The team's queue: tickets (a slow burn, a failed job).")


class TimeRange(StrictModel):
    start: ClockTime = Field(description="Start, HH:MM in the plant's time zone.")
    end: ClockTime = Field(description="End, HH:MM (24:00 for midnight), after `start`.")

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.end <= self.start:
            raise ValueError(f"end {self.end} is not after start {self.start} (split a range that crosses midnight)")
        return self


class MaintenanceWindow(StrictModel):
    name: Name = Field(description="Name of the window (Alertmanager time interval).")
    weekdays: list[Weekday] = Field(default_factory=list, description="Days it applies (empty: every day).")
    times: list[TimeRange] = Field(min_length=1, description="Times of day, in `factory.timezone`.")
    lines: list[str] = Field(
        default_factory=list, description="Lines whose alerts it mutes (empty: every line, not the platform's)."
    )


class SmtpConfig(StrictModel):
    smarthost: str = Field(description="Mail relay host:port, e.g. smtp.plant.example.com:587.")
    sender: str = Field(alias="from", description="Sender address of alert mail.")
    username: str | None = Field(default=None, description="Relay login; its password is Vault key `remoteKey`.")
    remote_key: VaultPath | None = Field(
        default=None, description="Vault key of the relay password (field `password`)."
    )


class AlertingConfig(StrictModel):
    platform_team: Name | None = Field(
        default=None,
        description=(
            "The team (a `teams[].name` with `alerting`) that receives the platform's alerts and every alert no "
            "line claims; production needs one."
        ),
    )
    maintenance: list[MaintenanceWindow] = Field(
        default_factory=list, description="Planned stops whose line alerts are muted (not the platform's)."
    )
    smtp: SmtpConfig | None = Field(default=None, description="Mail relay, for email receivers.")


class AuditLogConfig(StrictModel):
    retention_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description=(
            "Days each k3s/RKE2 server keeps its rotated API-server audit log files (audit-log-maxage); the log "
            "pipeline keeps the trail in the log store beyond that."
        ),
    )
    max_size_mb: int = Field(default=100, ge=1, le=10000, description="Size at which a log file rotates.")
    max_backups: int = Field(default=10, ge=1, le=1000, description="Rotated files kept (audit-log-maxbackup).")


class LogsConfig(StrictModel):
    retention_days: int = Field(
        default=14, ge=1, le=3650, description="Days the cluster's log store (Loki) keeps its pods' logs."
    )
    audit_retention_days: int = Field(
        default=365,
        ge=1,
        le=3650,
        description=(
            'Days the log store keeps the API servers\' audit trail (k3s/RKE2; stream `job="kube-audit"`), beyond '
            "what each server keeps on its disk (`observability.audit.retentionDays`)."
        ),
    )


class TracesConfig(StrictModel):
    endpoint: HttpsUrl | None = Field(
        default=None,
        description=(
            "OTLP/HTTP endpoint of a trace backend of the plant's own (e.g. https://traces.example.com:4318): every "
            "cluster's collector exports there and no Jaeger runs; none: the cluster's own Jaeger where its profile "
            "has one, else the hub's (`observability.hub.otlp`)."
        ),
    )


class HubConfig(StrictModel):
    remote_write: HttpsUrl | None = Field(
        default=None,
        description=(
            "Prometheus remote-write endpoint of the central hub (e.g. https://metrics.example.com/api/v1/write): "
            "every cluster's Prometheus sends its samples there, labelled with `factory` and `cluster`, for the "
            "long-term view beyond its own retention."
        ),
    )
    alertmanagers: list[HttpsUrl] = Field(
        default_factory=list,
        description=(
            "Alertmanagers of the hub (https://host[:port], without path): where a cluster with no Alertmanager of "
            "its own (profile `edge-small`) sends its alerts; production requires one for such a cluster."
        ),
    )
    loki: HttpsUrl | None = Field(
        default=None,
        description=(
            "Loki of the hub (https://host[:port], without path): where a cluster with no log store of its own "
            "(profile `edge-small`) ships its logs and audit trail; none: such a cluster keeps its logs on its nodes."
        ),
    )
    otlp: HttpsUrl | None = Field(
        default=None,
        description=(
            "OTLP/HTTP endpoint of the hub's trace store: where a cluster with no Jaeger of its own (profile "
            "`edge-small`) exports its lines' traces; none: such a cluster runs no collector."
        ),
    )
    remote_key: VaultPath | None = Field(
        default=None,
        description=(
            "Vault key (field `token`) of the bearer token the hub accepts for remote write, alerts, logs and traces, "
            "under the folder of each add-on that sends (`<cluster>/addon.kube-prometheus-stack/`, "
            "`<cluster>/addon.fluent-bit/`, `<cluster>/addon.opentelemetry-operator/`); none: the hub authenticates "
            "by network alone."
        ),
    )


class ObservabilityConfig(StrictModel):
    alerting: AlertingConfig = Field(default_factory=AlertingConfig, description="Alert routing.")
    logs: LogsConfig = Field(default_factory=LogsConfig, description="How long the log store keeps what.")
    traces: TracesConfig = Field(default_factory=TracesConfig, description="Where the lines' traces go.")
    hub: HubConfig = Field(
        default_factory=HubConfig,
        description="The central hub clusters report to: remote write, and Alertmanagers for clusters without one.",
    )
    audit: AuditLogConfig = Field(
        default_factory=AuditLogConfig,
        description="The API servers' audit trail on k3s/RKE2 clusters (managed clusters: docs/observability.md).",
    )


def check_observability(
    environment: str | None,
    observability: ObservabilityConfig | None,
    teams: Sequence[object | None],
    lines: Sequence[object | None],
    problems: Problems,
) -> None:
    """Objectives whose fastest page can fire; receivers for every owner in production, a platform team that can
    be reached, maintenance windows that name real lines, a mail relay for email receivers."""
    _check_objectives(lines, problems)
    if observability is None:
        return
    alerting = observability.alerting
    by_name = {field(team, "name"): team for _, team in present(teams)}
    reachable = {name for name, team in by_name.items() if field(team, "alerting") is not None}
    _check_platform_team(environment, alerting, list(by_name), reachable, problems)
    line_names = names(lines)
    for w, window in enumerate(alerting.maintenance):
        for k, name in enumerate(window.lines):
            if name not in line_names:
                problems.unknown((*WHERE, "maintenance", w, "lines", k), "line", name, line_names)
    if environment == "production":
        owners = {field(line, "team") for _, line in present(lines)}
        for i, team in present(teams):
            if field(team, "name") in owners and field(team, "alerting") is None:
                problems.add(
                    ("teams", i, "alerting"),
                    "is required in production for a team that owns lines: its pages would reach nobody",
                )
    kinds = {
        getattr(field(team, "alerting"), severity).kind
        for team in by_name.values()
        if field(team, "alerting") is not None
        for severity in ("page", "ticket")
    }
    if "email" in kinds and alerting.smtp is None:
        problems.add((*WHERE, "smtp"), "an email receiver needs the mail relay")


WHERE = ("observability", "alerting")
HUB = ("observability", "hub")
# profiles whose clusters run no Alertmanager of their own (components/observability/sizing.py): their alerts
# reach people only through the hub's
WITHOUT_ALERTMANAGER = frozenset({"edge-small"})


def check_hub(  # noqa: PLR0917 - one argument per section it reads, like the other cross-checks
    environment: str | None,
    observability: ObservabilityConfig | None,
    clusters: Sequence[object | None],
    teams: Sequence[object | None],
    vault: bool | None,
    problems: Problems,
) -> None:
    """A cluster with no Alertmanager sends its alerts to the hub's, which production requires; Vault keys (the
    receivers', the relay's, the hub's token) need Vault (`vault` None: the security section failed on its own)."""
    if observability is None:
        return
    hub = observability.hub
    alone = [str(field(c, "name")) for _, c in present(clusters) if field(c, "profile") in WITHOUT_ALERTMANAGER]
    if environment == "production" and alone and not hub.alertmanagers:
        problems.add(
            (*HUB, "alertmanagers"),
            f"is required in production: cluster(s) {', '.join(alone)} run no Alertmanager (profile edge-small), so "
            "their alerts would reach nobody",
        )
    if vault is False and hub.remote_key is not None:
        problems.add((*HUB, "remoteKey"), "is a Vault key: set `security.vault`")
    smtp = observability.alerting.smtp
    if vault is False and smtp is not None and smtp.remote_key is not None:
        problems.add((*WHERE, "smtp", "remoteKey"), "is a Vault key: set `security.vault`")
    for i, team in present(teams):
        alerting = field(team, "alerting")
        for severity in ("page", "ticket"):
            if vault is False and alerting is not None and getattr(alerting, severity).remote_key is not None:
                problems.add(("teams", i, "alerting", severity, "remoteKey"), "is a Vault key: set `security.vault`")


def _check_objectives(lines: Sequence[object | None], problems: Problems) -> None:
    lowest = LOWEST_ALERTABLE_OBJECTIVE * 100
    for i, line in present(lines):
        target = field(line, "slo_target")
        if target is not None and target < lowest:
            problems.add(
                ("lines", i, "sloTarget"),
                f"{target:g} % leaves an error budget so large that even a 14.4x burn (the fastest page) needs an "
                f"error ratio above 100 %: the page could never fire; use at least {lowest:.2f}",
            )


def _check_platform_team(
    environment: str | None, alerting: AlertingConfig, teams: list[str], reachable: set[str], problems: Problems
) -> None:
    if alerting.platform_team is None:
        if environment == "production":
            problems.add((*WHERE, "platformTeam"), "production names the team that receives the platform's alerts")
    elif alerting.platform_team not in teams:
        problems.unknown((*WHERE, "platformTeam"), "team", alerting.platform_team, teams)
    elif alerting.platform_team not in reachable:
        problems.add((*WHERE, "platformTeam"), f"team '{alerting.platform_team}' has no `alerting` receivers")
