"""factory-floor's CrossGuard policies, one concern per module. `ALL_POLICIES` is what the pack loads."""

from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

from factory_policies.namespaces import namespace_pod_security
from factory_policies.segmentation import line_default_deny

PACK_NAME = "factory-floor-compliance"

ALL_POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = [
    namespace_pod_security,
    line_default_deny,
]
