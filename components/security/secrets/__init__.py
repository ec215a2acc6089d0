"""Secrets from Vault through External Secrets: the operator add-on, the store, per-line ExternalSecrets."""
