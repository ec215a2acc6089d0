"""Cloud workload identity for one (namespace, service account): IRSA, GKE Workload Identity, Azure federation."""
