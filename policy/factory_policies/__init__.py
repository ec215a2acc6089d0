"""factory-floor's CrossGuard policies, one concern per module. `ALL_POLICIES` is what the pack loads.

Order is the catalogue's order: Kubernetes workloads, namespaces and network, access, supply chain,
platform rules, the backup stores per cloud, then the guard rails a careless stack edit must not get past.
"""

from factory_policies.aws_s3 import (
    aws_s3_kms_encryption,
    aws_s3_object_lock,
    aws_s3_owner_enforced,
    aws_s3_public_access_block,
    aws_s3_tls_only,
    aws_s3_versioning,
)
from factory_policies.azure_storage import (
    azure_blob_immutability,
    azure_blob_soft_delete,
    azure_storage_encryption,
    azure_storage_no_cross_tenant,
    azure_storage_no_public_blobs,
    azure_storage_no_shared_key,
    azure_storage_secure_transfer,
)
from factory_policies.backup_protection import backup_store_protected
from factory_policies.chaos import chaos_opted_in_targets
from factory_policies.external_secrets import external_secret_line_scope
from factory_policies.gcs import gcs_cmek, gcs_public_access_prevention, gcs_retention, gcs_uniform_access
from factory_policies.helm import helm_chart_version_pinned, helm_v3_release_forbidden
from factory_policies.images import image_allowed_registries, image_pinned
from factory_policies.kit import FactoryResourcePolicy, FactoryStackPolicy
from factory_policies.line_workloads import (
    pdb_allows_disruption,
    workload_inline_csi_drivers,
    workload_line_label,
    workload_runtime_class,
    workload_scheduling,
)
from factory_policies.namespace_protection import namespace_protected
from factory_policies.namespaces import namespace_pod_security
from factory_policies.pod_security import pod_security_baseline, pod_security_restricted
from factory_policies.production_guards import (
    allowed_images_narrow,
    gatekeeper_enforced_in_production,
    gatekeeper_webhook_fail_closed_in_production,
    rbac_no_system_groups,
)
from factory_policies.rbac import rbac_no_escalation_verbs, rbac_no_superuser_bindings, rbac_no_wildcards
from factory_policies.secrets import secret_no_literal_data
from factory_policies.segmentation import line_default_deny
from factory_policies.services import service_exposure
from factory_policies.workload_resources import container_resources

PACK_NAME = "factory-floor-compliance"

ALL_POLICIES: list[FactoryResourcePolicy | FactoryStackPolicy] = [
    # Kubernetes workloads
    pod_security_baseline,
    pod_security_restricted,
    container_resources,
    workload_scheduling,
    workload_inline_csi_drivers,
    workload_runtime_class,
    workload_line_label,
    pdb_allows_disruption,
    # namespaces and network zones
    namespace_pod_security,
    line_default_deny,
    service_exposure,
    # access
    rbac_no_wildcards,
    rbac_no_escalation_verbs,
    rbac_no_superuser_bindings,
    secret_no_literal_data,
    external_secret_line_scope,
    # supply chain
    image_pinned,
    image_allowed_registries,
    helm_v3_release_forbidden,
    helm_chart_version_pinned,
    # platform rules
    chaos_opted_in_targets,
    # backup stores
    aws_s3_versioning,
    aws_s3_object_lock,
    aws_s3_kms_encryption,
    aws_s3_public_access_block,
    aws_s3_tls_only,
    aws_s3_owner_enforced,
    gcs_uniform_access,
    gcs_public_access_prevention,
    gcs_cmek,
    gcs_retention,
    azure_storage_secure_transfer,
    azure_storage_no_public_blobs,
    azure_storage_no_shared_key,
    azure_storage_no_cross_tenant,
    azure_storage_encryption,
    azure_blob_soft_delete,
    azure_blob_immutability,
    backup_store_protected,
    namespace_protected,
    # guard rails: what a careless stack edit must not switch off (config validation refuses it too)
    rbac_no_system_groups,
    gatekeeper_enforced_in_production,
    gatekeeper_webhook_fail_closed_in_production,
    allowed_images_narrow,
]
