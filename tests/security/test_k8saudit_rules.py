"""Our Falco rules for the Kubernetes audit log (components/security/rules/factory-floor-k8saudit.yaml): their
structure as Falco reads a rules file, the fields they use against what the k8saudit and json plugins export, and
the intent of each condition against audit-event fixtures — the attack, next to what must stay quiet.

No Falco binary installs here (no Debian or PyPI package; falcoctl only downloads artifacts), so the conditions
are evaluated by tests/support/falco_conditions.py, a small evaluator of the syntax they use — not by Falco."""

from __future__ import annotations

import re
from typing import Any

import pytest

from components.security import k8saudit
from tests.support.falco_conditions import FIELDS, evaluate, fields_used, tokens

PRIORITIES = {"EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFORMATIONAL", "DEBUG"}
RULE_KEYS = {"rule", "desc", "condition", "output", "priority", "source", "tags"}
KEYWORDS = {"and", "or", "not", "(", ")", ",", "in", "=", "!=", "startswith", "endswith", "contains", "exists"}

DOCUMENT = k8saudit.rules()
MACROS = {item["macro"]: item["condition"] for item in DOCUMENT if "macro" in item}
RULES = {item["rule"]: item for item in DOCUMENT if "rule" in item}


def test_the_rules_file_has_the_shape_falco_reads() -> None:
    assert isinstance(DOCUMENT, list) and DOCUMENT
    [requirements] = [item["required_plugin_versions"] for item in DOCUMENT if "required_plugin_versions" in item]
    assert {r["name"] for r in requirements} == {"k8saudit", "json"}
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", r["version"]) for r in requirements)
    for item in DOCUMENT:
        assert len({"rule", "macro", "list", "required_plugin_versions"} & set(item)) == 1, item
    for name, rule in RULES.items():
        assert set(rule) == RULE_KEYS, name
        assert rule["priority"] in PRIORITIES and rule["source"] == "k8s_audit", name


def test_every_name_a_condition_uses_is_a_macro_a_field_or_a_literal() -> None:
    for text in [*MACROS.values(), *(r["condition"] for r in RULES.values())]:
        words = [t for t in tokens(text) if t not in KEYWORDS and t[:1] not in "'\""]
        unknown = [w for w in words if w.startswith("ff_") and w not in MACROS]
        assert not unknown, unknown
        assert fields_used(text) - {f for f in fields_used(text) if f.startswith("json.value[")} <= set(FIELDS)


def test_outputs_name_only_fields_the_plugins_export() -> None:
    for rule in RULES.values():
        for name in re.findall(r"%((?:ka\.[a-z_.]+)|(?:json\.value\[[^\]]+\]))", rule["output"]):
            assert name.startswith("json.value[") or name in FIELDS, name


def audit(
    user: str,
    *,
    resource: str = "jobs",
    namespace: str = "line-press",
    verb: str = "create",
    agent: str = "kubectl/v1.32.4 (linux/amd64) kubernetes/59526cd",
    request: dict[str, Any] | None = None,
    pod_bound: bool = False,
) -> dict[str, Any]:
    """One audit.k8s.io/v1 Event at stage ResponseComplete, as the API server posts it to the webhook."""
    extra = {"authentication.kubernetes.io/pod-name": ["mes-api-7d9c"]} if pod_bound else {}
    return {
        "apiVersion": "audit.k8s.io/v1",
        "kind": "Event",
        "level": "Request",
        "stage": "ResponseComplete",
        "verb": verb,
        "user": {"username": user, "groups": ["system:authenticated"], "extra": extra},
        "userAgent": agent,
        "sourceIPs": ["192.0.2.10"],
        "objectRef": {"resource": resource, "namespace": namespace, "name": "dump"},
        "responseStatus": {"code": 201},
        **({"requestObject": request} if request is not None else {}),
    }


def job(pod: dict[str, Any], cron: bool = False) -> dict[str, Any]:
    template = {"template": {"spec": pod}}
    return {"spec": {"jobTemplate": {"spec": template}}} if cron else {"spec": template}


CONTAINER = {"name": "dump", "image": "registry.plant.local/lines/press/tools:1.2"}
MOUNTS_SECRET = {"containers": [CONTAINER], "volumes": [{"name": "plc", "secret": {"secretName": "plc-credentials"}}]}
ENV_FROM_SECRET = {"containers": [{**CONTAINER, "envFrom": [{"secretRef": {"name": "plc-credentials"}}]}]}
KEY_FROM_SECRET = {
    "containers": [
        {**CONTAINER, "env": [{"name": "P", "valueFrom": {"secretKeyRef": {"name": "plc-credentials", "key": "p"}}}]}
    ]
}
NO_SECRET = {"containers": [CONTAINER], "volumes": [{"name": "scratch", "emptyDir": {}}]}
ALICE = "oidc:alice@pilsen.example.com"
LINE_TOKEN = "system:serviceaccount:line-mes:line-workload"
CLIENT_GO = "mes-api/1.4.0 (linux/amd64) kubernetes/v0.31.2"

PERSON_JOB = "Person creates a Job that reads Secrets in a line"
EXTERNAL_IPS = "Service with externalIPs"
LINE_TOKEN_RULE = "Line workload token used outside its pod"

CASES = [
    # (rule, event, fires)
    pytest.param(PERSON_JOB, audit(ALICE, request=job(MOUNTS_SECRET)), True, id="person-job-mounts-a-secret"),
    pytest.param(PERSON_JOB, audit(ALICE, request=job(ENV_FROM_SECRET)), True, id="person-job-envfrom-a-secret"),
    pytest.param(
        PERSON_JOB,
        audit(ALICE, resource="cronjobs", verb="patch", request=job(KEY_FROM_SECRET, cron=True)),
        True,
        id="person-cronjob-secret-key-in-env",
    ),
    pytest.param(
        PERSON_JOB,
        audit("system:serviceaccount:kube-system:cronjob-controller", request=job(MOUNTS_SECRET)),
        False,
        id="cronjob-controller-starting-a-job-is-not-a-person",
    ),
    pytest.param(PERSON_JOB, audit(ALICE, request=job(NO_SECRET)), False, id="person-job-without-secrets"),
    pytest.param(
        PERSON_JOB, audit(ALICE, namespace="falco", request=job(MOUNTS_SECRET)), False, id="not-a-line-namespace"
    ),
    pytest.param(PERSON_JOB, audit(ALICE, verb="get"), False, id="reading-a-job-is-not-writing"),
    pytest.param(
        EXTERNAL_IPS,
        audit(ALICE, resource="services", request={"spec": {"type": "ClusterIP", "externalIPs": ["10.0.0.1"]}}),
        True,
        id="service-claims-the-api-servers-address",
    ),
    pytest.param(
        EXTERNAL_IPS,
        audit(ALICE, resource="services", verb="update", request={"spec": {"externalIPs": ["10.0.0.1"]}}),
        True,
        id="service-update-adds-external-ips",
    ),
    pytest.param(
        EXTERNAL_IPS,
        audit(ALICE, resource="services", request={"spec": {"type": "ClusterIP"}}),
        False,
        id="plain-service",
    ),
    pytest.param(LINE_TOKEN_RULE, audit(LINE_TOKEN, pod_bound=True), True, id="line-token-from-kubectl"),
    pytest.param(
        LINE_TOKEN_RULE, audit(LINE_TOKEN, agent="curl/8.5.0", pod_bound=True), True, id="line-token-from-curl"
    ),
    pytest.param(
        LINE_TOKEN_RULE, audit(LINE_TOKEN, agent=CLIENT_GO, pod_bound=False), True, id="line-token-without-its-pod"
    ),
    pytest.param(
        LINE_TOKEN_RULE, audit(LINE_TOKEN, agent=CLIENT_GO, pod_bound=True), False, id="line-token-from-its-own-pod"
    ),
    pytest.param(
        LINE_TOKEN_RULE,
        audit("system:serviceaccount:line-mes:default", pod_bound=False),
        False,
        id="another-account-is-not-the-identity-token",
    ),
]


@pytest.mark.parametrize(("rule", "event", "fires"), CASES)
def test_each_rule_fires_for_its_attack_and_stays_quiet_otherwise(
    rule: str, event: dict[str, Any], fires: bool
) -> None:
    assert evaluate(RULES[rule]["condition"], event, MACROS) is fires


def test_the_evaluator_refuses_what_it_does_not_model() -> None:
    with pytest.raises(ValueError, match="not modelled"):
        evaluate("ka.req.pod.host_pid = true", {}, {})
    with pytest.raises(ValueError, match="not modelled"):
        evaluate("ka.verb glob 'c*'", {"verb": "create"}, {})
