"""The policy cases, one module per area: for each policy a compliant fixture and one-field mutations that must
each be caught (`CASES`), plus the fixtures and builders other policy tests reuse. Pure data and small
builders: the tests are in tests/policies (test_cases.py judges every case of MODULES).
"""

from __future__ import annotations

from tests.support.policy_cases import (
    aws,
    azure,
    backup,
    chaos,
    external_secrets,
    gcp,
    guards,
    kubernetes,
    kubernetes_cluster,
    line_workloads,
)

MODULES = (kubernetes, kubernetes_cluster, line_workloads, external_secrets, chaos, aws, gcp, azure, backup, guards)
