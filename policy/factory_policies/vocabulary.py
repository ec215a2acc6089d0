"""The label, annotation and tag keys (and values) the pack reads from what the program writes.

These are copies of components/core/vocabulary.py: the pack must import alone — `pulumi preview
--policy-pack policy` loads it without this project on the path — so it cannot import the program. A test
(tests/policies/test_vocabulary.py) keeps every copy equal to the program's definition.
"""

from __future__ import annotations

COMPONENT = "app.kubernetes.io/component"
LINE = "factory-floor.io/line"  # the line a workload belongs to; in line-<line> it names that line
LINE_COMPONENT = "production-line"  # the COMPONENT value of a production line's namespace
LINE_NAMESPACE_PREFIX = "line-"  # a line's namespace is line-<line>
CHAOS = "factory-floor.io/chaos"
CHAOS_OPT_IN = "opt-in"
CHAOS_MESH_INJECT = "chaos-mesh.org/inject"
CHAOS_MESH_INJECT_VALUE = "enabled"
POD_SECURITY = "pod-security.kubernetes.io"
POD_SECURITY_EXEMPTION = "factory-floor.io/pod-security-exemption"
PURPOSE = "factory-floor-purpose"
BACKUP_PURPOSE = "backup"
CONTROL_PLANE_TAINT = "node-role.kubernetes.io/control-plane"
LEGACY_MASTER_TAINT = "node-role.kubernetes.io/master"
ETCD_TAINT = "node-role.kubernetes.io/etcd"
CRITICAL_ADDONS_TAINT = "CriticalAddonsOnly"
