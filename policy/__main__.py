"""Entry point of `pulumi preview --policy-pack policy`: builds the pack and nothing else.

PolicyPack() starts the analyzer's gRPC server and blocks, so this file is never imported by tests;
the policies live in the importable `factory_policies` package.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from factory_policies import ALL_POLICIES, PACK_NAME

PolicyPack(name=PACK_NAME, policies=ALL_POLICIES, enforcement_level=EnforcementLevel.ADVISORY)
