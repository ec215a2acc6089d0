"""Alertmanager's configuration, generated from the teams and lines of the stack: a line's pages go to its team's
on-call and its tickets to the team's queue; everything else (the platform's alerts, and any alert no line claims)
to the platform team; a ticket is inhibited while its page fires; alerts are grouped by factory, line and name;
maintenance windows mute the lines they name (never the platform's alerts).

No secret is in it: every receiver reads its key, URL or password from a file (`*_file` settings, judged by
amtool 0.25, Debian's), mounted from its own Secret `alertmanager-<team>-<severity>` (and `alertmanager-smtp`) that
External Secrets fills from Vault (`<cluster>/addon.alertmanager/<remoteKey>`). A pure builder; amtool judges the
result in the tests.
"""

from __future__ import annotations

from typing import Any

from components.config.document import FactoryConfig
from components.config.factory import TeamConfig
from components.config.lines import LineConfig
from components.observability.config import SECRET_FIELD, MaintenanceWindow, ReceiverConfig
from components.observability.slo.burn import Severity

# one Secret per receiver, each External Secrets' copy of one Vault key (the catalogue's add-on secrets), mounted
# by the operator at /etc/alertmanager/secrets/<Secret>/<key> (`alertmanagerSpec.secrets`)
SECRETS_ROOT = "/etc/alertmanager/secrets"
SECRET_KEY = "secret"
SMTP = "smtp"
UNROUTED = "unrouted"  # a receiver with no integration: where alerts go while no team can receive them
GROUP_BY = ["factory", "line", "alertname"]
INHIBIT_EQUAL = ["factory", "cluster", "line", "namespace", "alertname"]
SEVERITIES: tuple[Severity, ...] = ("page", "ticket")
REPEAT = {"page": "1h", "ticket": "12h"}  # a page is repeated until it is resolved or silenced; a ticket daily-ish
# ours are page and ticket; kube-prometheus-stack's own rules say critical and warning for the same two urgencies,
# and info or none for what nobody is sent (its Watchdog, which always fires, and InfoInhibitor): those stay
# visible in Alertmanager and Grafana
SEVERITY_MATCH = {"page": 'severity=~"page|critical"', "ticket": 'severity=~"ticket|warning"'}
SILENT_MATCH = 'severity=~"info|none"'


def receiver_name(team: str, severity: str) -> str:
    return f"{team}-{severity}"


def secret_name(owner: str) -> str:
    """The Secret holding one receiver's secret (`<team>-<severity>`), or the mail relay's password (`smtp`)."""
    return f"alertmanager-{owner}"


def secret_file(owner: str) -> str:
    return f"{SECRETS_ROOT}/{secret_name(owner)}/{SECRET_KEY}"


def _integration(name: str, severity: str, receiver: ReceiverConfig) -> dict[str, Any]:
    file = secret_file(name)
    if receiver.kind == "pagerduty":
        return {"pagerduty_configs": [{"routing_key_file": file, "send_resolved": True}]}
    if receiver.kind == "opsgenie":
        priority = "P1" if severity == "page" else "P3"
        return {"opsgenie_configs": [{"api_key_file": file, "priority": priority, "send_resolved": True}]}
    if receiver.kind == "slack":
        return {"slack_configs": [{"api_url_file": file, "channel": receiver.channel, "send_resolved": True}]}
    return {"email_configs": [{"to": receiver.to, "send_resolved": True}]}


def receivers(teams: list[TeamConfig]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [{"name": UNROUTED}]
    for team in teams:
        if team.alerting is None:
            continue
        for severity in SEVERITIES:
            name = receiver_name(team.name, severity)
            found.append({"name": name, **_integration(name, severity, getattr(team.alerting, severity))})
    return found


def _target(config: FactoryConfig, team: str, severity: str) -> str:
    """The team's receiver, else the platform team's, else none (a development stack with no receivers)."""
    for candidate in (team, config.observability.alerting.platform_team):
        if candidate is not None and config.team(candidate).alerting is not None:
            return receiver_name(candidate, severity)
    return UNROUTED


def _muting(windows: list[MaintenanceWindow], line: str) -> list[str]:
    return [w.name for w in windows if not w.lines or line in w.lines]


def _line_routes(config: FactoryConfig, line: LineConfig) -> list[dict[str, Any]]:
    """A line's alerts: ours carry `line`; Kubernetes' own about its pods (a crash loop, a job failing) carry the
    line's namespace. Both reach the line's team."""
    route = _line_route(config, line.name, line.team)
    by_namespace = {**route, "matchers": [f'namespace="{line.namespace}"']}
    return [route, by_namespace]


def _line_route(config: FactoryConfig, line: str, team: str) -> dict[str, Any]:
    muted = _muting(config.observability.alerting.maintenance, line)
    routes = []
    for severity in SEVERITIES:
        route: dict[str, Any] = {
            "matchers": [SEVERITY_MATCH[severity]],
            "receiver": _target(config, team, severity),
            "repeat_interval": REPEAT[severity],
        }
        if muted:
            route["mute_time_intervals"] = muted  # not inherited: set on the routes that deliver
        routes.append(route)
    # a line's alert of any other severity goes to its queue
    fallback: dict[str, Any] = {"receiver": _target(config, team, "ticket")}
    if muted:
        fallback["mute_time_intervals"] = muted
    return {"matchers": [f'line="{line}"'], **fallback, "routes": routes}


def _time_interval(window: MaintenanceWindow, timezone: str) -> dict[str, Any]:
    interval: dict[str, Any] = {
        "times": [{"start_time": t.start, "end_time": t.end} for t in window.times],
        "location": timezone,
    }
    if window.weekdays:
        interval["weekdays"] = list(window.weekdays)
    return {"name": window.name, "time_intervals": [interval]}


def alertmanager_config(config: FactoryConfig) -> dict[str, Any]:
    alerting = config.observability.alerting
    platform = alerting.platform_team
    routes: list[dict[str, Any]] = [{"matchers": [SILENT_MATCH], "receiver": UNROUTED}]
    routes += [
        route for line in sorted(config.lines, key=lambda item: item.name) for route in _line_routes(config, line)
    ]
    routes.append(
        {
            "matchers": [SEVERITY_MATCH["page"]],
            "receiver": _target(config, platform or "", "page") if platform else UNROUTED,
            "repeat_interval": REPEAT["page"],
        }
    )
    document: dict[str, Any] = {
        "route": {
            "receiver": _target(config, platform, "ticket") if platform else UNROUTED,
            "group_by": GROUP_BY,
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": REPEAT["ticket"],
            "routes": routes,
        },
        "inhibit_rules": [
            {
                "source_matchers": [SEVERITY_MATCH["page"]],
                "target_matchers": [SEVERITY_MATCH["ticket"]],
                "equal": INHIBIT_EQUAL,
            }
        ],
        "receivers": receivers(config.teams),
    }
    if alerting.maintenance:
        document["time_intervals"] = [_time_interval(w, config.factory.timezone) for w in alerting.maintenance]
    if alerting.smtp is not None:
        smtp = alerting.smtp
        document["global"] = {
            "smtp_smarthost": smtp.smarthost,
            "smtp_from": smtp.sender,
            "smtp_require_tls": True,
            **({"smtp_auth_username": smtp.username} if smtp.username else {}),
            **({"smtp_auth_password_file": secret_file(SMTP)} if smtp.remote_key else {}),
        }
    return document


def receiver_secrets(config: FactoryConfig) -> dict[str, tuple[str, str]]:
    """Secret name -> (Vault key, field): what External Secrets copies for Alertmanager, one Secret each."""
    found: dict[str, tuple[str, str]] = {}
    for team in config.teams:
        if team.alerting is None:
            continue
        for severity in SEVERITIES:
            receiver = getattr(team.alerting, severity)
            if receiver.remote_key is not None:
                found[secret_name(receiver_name(team.name, severity))] = (
                    receiver.remote_key,
                    SECRET_FIELD[receiver.kind],
                )
    smtp = config.observability.alerting.smtp
    if smtp is not None and smtp.remote_key is not None:
        found[secret_name(SMTP)] = (smtp.remote_key, "password")
    return found
