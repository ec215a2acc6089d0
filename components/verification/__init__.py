"""Verification: what the platform proves on the cluster itself, after it deployed — today that the cluster's
CNI enforces the NetworkPolicies every line's segmentation rests on (a canary Job that gates the rollout)."""
