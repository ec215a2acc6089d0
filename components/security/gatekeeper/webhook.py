"""Gatekeeper's admission webhooks as the API server knows them: their names (the `name` label of the API
server's admission metrics) and how long the API server waits for an answer. Read from the chart at the
pinned version (3.22.0: templates/gatekeeper-validating-webhook-configuration-…, -mutating-…)."""

from __future__ import annotations

# judges every request against the constraints (values.validatingWebhookFailurePolicy)
VALIDATING = "validation.gatekeeper.sh"
# refuses the admission.gatekeeper.sh/ignore label on namespaces Gatekeeper does not exempt (always fails closed)
CHECK_IGNORE_LABEL = "check-ignore-label.gatekeeper.sh"
# mutators (none are applied here; the chart installs the webhook, failing open)
MUTATING = "mutation.gatekeeper.sh"
NAMES = (VALIDATING, CHECK_IGNORE_LABEL, MUTATING)

# values.validatingWebhookTimeoutSeconds: the chart's default, stated so the latency alert and the chart
# read one number. A request the webhook has not answered by then fails (closed: refused).
TIMEOUT_SECONDS = 3
