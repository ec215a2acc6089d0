"""The webhook alerts, judged by promtool: the rule file is valid, and synthetic API server metrics make exactly
the expected alerts fire — a webhook that cannot be called pages, a constraint denying requests does not."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from components.security.gatekeeper import webhook
from components.security.gatekeeper.alerts import webhook_alert_rules
from tests.support.prometheus_rules import assert_alerts, check_rules, run_rule_tests, write_rule_file

REJECTIONS = "apiserver_admission_webhook_rejection_count"
FAIL_OPEN = "apiserver_admission_webhook_fail_open_count"
DURATION = "apiserver_admission_webhook_admission_duration_seconds_bucket"


def _labels(**labels: str) -> str:
    return "{" + ", ".join(f'{key}="{value}"' for key, value in labels.items()) + "}"


def rejections(name: str, error_type: str, rejection_code: str = "0", operation: str = "CREATE") -> str:
    return REJECTIONS + _labels(
        name=name, type="validating", operation=operation, error_type=error_type, rejection_code=rejection_code
    )


def write_rules(tmp_path: Path) -> Path:
    return write_rule_file(tmp_path, "gatekeeper.rules.yaml", webhook_alert_rules())


def test_rule_file_passes_promtool_check(tmp_path: Path) -> None:
    assert "SUCCESS: 3 rules found" in check_rules(tmp_path, write_rules(tmp_path))


def test_the_latency_threshold_follows_the_webhook_timeout() -> None:
    [group] = webhook_alert_rules()["groups"]
    slow = next(r for r in group["rules"] if r["alert"] == "GatekeeperWebhookSlow")
    assert slow["expr"].endswith(f"> {webhook.TIMEOUT_SECONDS / 2:g}")
    [group] = webhook_alert_rules(timeout_seconds=10)["groups"]
    assert next(r for r in group["rules"] if r["alert"] == "GatekeeperWebhookSlow")["expr"].endswith("> 5")


CALL_FAILURE = {"name": webhook.VALIDATING, "type": "validating", "operation": "CREATE"}


@dataclass(frozen=True)
class Case:
    series: list[tuple[str, str]]  # (series, values) as promtool's input_series
    alert: str
    eval_time: str
    fired: list[tuple[dict[str, str], str]] = field(default_factory=list)  # (labels, $value) of each alert


CASES = {
    "the webhook times out or is unreachable: every CREATE refused for 10 minutes pages": Case(
        [(rejections(webhook.VALIDATING, "calling_webhook_error"), "0+1x20")],
        "GatekeeperWebhookCallsFailing",
        "10m",
        [({"severity": "page", **CALL_FAILURE}, "5")],
    ),
    "an API server error on the way to the webhook pages too": Case(
        [(rejections(webhook.VALIDATING, "apiserver_internal_error"), "0+1x20")],
        "GatekeeperWebhookCallsFailing",
        "10m",
        [({"severity": "page", **CALL_FAILURE}, "5")],
    ),
    "a burst shorter than the for: window does not page": Case(
        [(rejections(webhook.VALIDATING, "calling_webhook_error"), "0 1 2 2 2 2 2 2 2 2 2 2 2 2")],
        "GatekeeperWebhookCallsFailing",
        "10m",
    ),
    "constraints denying requests (no_error, 403) is Gatekeeper working: nobody is paged": Case(
        [(rejections(webhook.VALIDATING, "no_error", "403"), "0+50x20")], "GatekeeperWebhookCallsFailing", "10m"
    ),
    "another product's webhook, even one whose name differs only where a regex dot would match": Case(
        [
            (rejections("validation.kyverno.svc", "calling_webhook_error"), "0+1x20"),
            (rejections("validationXgatekeeper.sh", "calling_webhook_error"), "0+1x20"),
        ],
        "GatekeeperWebhookCallsFailing",
        "10m",
    ),
    "a fail-open stack admitting requests unjudged gets a ticket": Case(
        [(f'{FAIL_OPEN}{{name="{webhook.VALIDATING}", type="validating"}}', "0+2x10")],
        "GatekeeperWebhookFailingOpen",
        "5m",
        [({"severity": "ticket", "name": webhook.VALIDATING, "type": "validating"}, "10")],
    ),
    "the mutating webhook failing open judges nothing (no mutators are applied)": Case(
        [(f'{FAIL_OPEN}{{name="{webhook.MUTATING}", type="admit"}}', "0+2x10")], "GatekeeperWebhookFailingOpen", "5m"
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_alerts_fire_exactly_when_expected(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    rules = write_rules(tmp_path)
    assert_alerts(rules, series=case.series, alert=case.alert, eval_time=case.eval_time, fired=case.fired)


def _latency(le_counts: dict[str, int]) -> list[tuple[str, str]]:
    """A histogram of the validating webhook's answers: per bucket, that many observations a minute."""
    return [
        (
            DURATION + _labels(name=webhook.VALIDATING, type="validating", operation="CREATE", rejected="false", le=le),
            f"0+{count}x30",
        )
        for le, count in le_counts.items()
    ]


@pytest.mark.parametrize(
    ("buckets", "slow"),
    [
        # every answer between 1 s and 2.5 s: the 99th percentile is near 2.5 s, above half the 3 s timeout
        ({"0.5": 0, "1": 0, "2.5": 60, "10": 60, "+Inf": 60}, True),
        # every answer within 100 ms
        ({"0.1": 60, "0.5": 60, "1": 60, "2.5": 60, "10": 60, "+Inf": 60}, False),
    ],
)
def test_slow_answers_get_a_ticket(tmp_path: Path, buckets: dict[str, int], slow: bool) -> None:
    rules = write_rules(tmp_path)
    evaluation = {
        "expr": f'ALERTS{{alertname="GatekeeperWebhookSlow", alertstate="firing", name="{webhook.VALIDATING}"}}',
        "eval_time": "20m",
        "exp_samples": (
            [
                {
                    "labels": "ALERTS"
                    + _labels(
                        alertname="GatekeeperWebhookSlow",
                        alertstate="firing",
                        name=webhook.VALIDATING,
                        severity="ticket",
                    ),
                    "value": 1,
                }
            ]
            if slow
            else []
        ),
    }
    test = {
        "interval": "1m",
        "input_series": [{"series": s, "values": v} for s, v in _latency(buckets)],
        "promql_expr_test": [evaluation],
    }
    run_rule_tests(tmp_path, rules, [test], evaluation_interval="1m")
