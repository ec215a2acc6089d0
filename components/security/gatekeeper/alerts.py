"""Alerts on Gatekeeper's admission webhooks, from the API server's own admission metrics (the API server sees
what Gatekeeper cannot report about itself: a call that errored, timed out or was admitted unjudged).

A pure builder: the Prometheus rule-file document (`groups:`), judged by promtool in the tests. Nothing installs
it yet: the observability capability (a later issue) brings Prometheus and the PrometheusRule CRD, and then
installs these rules with it (docs/security.md, "Alerts on the webhook").

Metrics (kube-apiserver, k8s.io/apiserver admission metrics):
- `apiserver_admission_webhook_rejection_count{name, type, operation, error_type, rejection_code}`: a request
  refused by a webhook; `error_type` is `no_error` for a webhook's own denial (a constraint doing its job) and
  `calling_webhook_error` / `apiserver_internal_error` when the call failed — unreachable, TLS, or timed out —
  and the failure policy `Fail` refused the request for it;
- `apiserver_admission_webhook_fail_open_count{name, type}`: a request admitted unjudged because the call
  failed and the failure policy is `Ignore`;
- `apiserver_admission_webhook_admission_duration_seconds_bucket{name, type, operation, rejected, le}`.
"""

from __future__ import annotations

import re
from typing import Any

from components.security.gatekeeper import webhook

GROUP = "gatekeeper-admission-webhook"
WINDOW = "5m"
# the validating webhooks: a call failure refuses the request (fail closed) or admits it unjudged (fail open)
JUDGING = (webhook.VALIDATING, webhook.CHECK_IGNORE_LABEL)


def _matcher(names: tuple[str, ...]) -> str:
    """`name=~"…"` matching exactly these webhook names (dots escaped in the regex, backslashes in PromQL)."""
    pattern = "|".join(re.escape(name) for name in names)
    return 'name=~"' + pattern.replace("\\", "\\\\") + '"'


def webhook_alert_rules(timeout_seconds: int = webhook.TIMEOUT_SECONDS) -> dict[str, Any]:
    """The rule file: call errors and timeouts (page), a webhook admitting unjudged (ticket), and answers slow
    enough to approach the timeout (ticket). A constraint denying a request is not an error and alerts nobody."""
    slow = timeout_seconds / 2
    rules: list[dict[str, Any]] = [
        {
            "alert": "GatekeeperWebhookCallsFailing",
            "expr": (
                f"sum by (name, type, operation) (increase(apiserver_admission_webhook_rejection_count"
                f'{{{_matcher(webhook.NAMES)}, error_type!="no_error"}}[{WINDOW}])) > 0'
            ),
            "for": "5m",
            "labels": {"severity": "page"},
            "annotations": {
                "summary": "Gatekeeper's webhook {{ $labels.name }} cannot be called: {{ $labels.operation }} "
                "requests are refused",
                "description": (
                    "The API server could not get an answer from {{ $labels.name }} (unreachable, TLS or a "
                    f"timeout of {timeout_seconds}s) for {{{{ $value }}}} {{{{ $labels.operation }}}} requests in "
                    f"the last {WINDOW}, and refused them: the webhook fails closed, so every judged namespace "
                    "can create or change nothing until Gatekeeper answers again. Check the pods in "
                    "gatekeeper-system (kubectl -n gatekeeper-system get pods,events)."
                ),
            },
        },
        {
            "alert": "GatekeeperWebhookFailingOpen",
            "expr": (
                f"sum by (name, type) (increase(apiserver_admission_webhook_fail_open_count"
                f"{{{_matcher(JUDGING)}}}[{WINDOW}])) > 0"
            ),
            "labels": {"severity": "ticket"},
            "annotations": {
                "summary": "Gatekeeper's webhook {{ $labels.name }} admitted requests unjudged",
                "description": (
                    "{{ $value }} requests were admitted without Gatekeeper's judgement in the last "
                    f"{WINDOW}: the call failed and the stack sets security.gatekeeper.webhookFailurePolicy: "
                    "Ignore (never allowed in production). Read the constraints' audit for what came in."
                ),
            },
        },
        {
            "alert": "GatekeeperWebhookSlow",
            "expr": (
                "histogram_quantile(0.99, sum by (name, le) (rate("
                f"apiserver_admission_webhook_admission_duration_seconds_bucket{{{_matcher(JUDGING)}}}[{WINDOW}])"
                f")) > {slow:g}"
            ),
            "for": "10m",
            "labels": {"severity": "ticket"},
            "annotations": {
                "summary": "Gatekeeper's webhook {{ $labels.name }} answers slowly",
                "description": (
                    "The 99th percentile of {{ $labels.name }}'s answers took {{ $value }}s over "
                    f"{WINDOW}; at {timeout_seconds}s a request times out and is refused. Look at the "
                    "controller-manager's CPU and the number and cost of constraints."
                ),
            },
        },
    ]
    return {"groups": [{"name": GROUP, "rules": rules}]}
