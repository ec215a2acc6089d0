"""ProductionLine: one isolated zone (IEC 62443) on a cluster — namespace, guard rails, access, identity."""

from __future__ import annotations

import pulumi

from components.core.component import FactoryComponent
from components.core.contracts import LINE_WORKLOAD_SERVICE_ACCOUNT, IdentityBinding, LineHandle
from components.core.kube import kube_resource
from components.identity.component import IdentityArgs, WorkloadIdentity
from components.identity.egress import identity_egress_policy
from components.lines import manifests as build
from components.lines.manifests import LineArgs


class ProductionLine(FactoryComponent[LineArgs]):
    """Creates on the line's cluster: the namespace `line-<name>` (Pod Security restricted), a ResourceQuota
    (compute, ephemeral storage, volumes, object counts) and LimitRange, default-deny NetworkPolicies plus
    traffic among the line's own pods, DNS, the scrape path from Prometheus and both sides of each declared
    conduit, the `line-editor` Role and its binding to the team's groups, the `line-workload` ServiceAccount,
    a patch that turns off token automount on the namespace's `default` ServiceAccount and, when the
    cluster federates with a cloud, the WorkloadIdentity that trusts exactly that account. Other
    capabilities put their per-line objects into the line through `handle`.

    The whole line is stateful: the namespace holds the line's volumes, and removing only its guard rails
    (NetworkPolicies, quota, RBAC, identity) would leave its workloads running unisolated. Where the stack
    protects state, every one of its resources is protected and retained."""

    namespace: pulumi.CustomResource
    service_account: pulumi.CustomResource
    identity: WorkloadIdentity | None
    handle: LineHandle

    def __init__(self, name: str, args: LineArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args, opts)
        self.namespace = self._object("namespace", build.namespace(args), self.child_opts(stateful=True))
        # everything else lives in the namespace: wait for it so a first `up` never races the API server
        inside = self.child_opts(depends_on=[self.namespace], stateful=True)
        self._object("quota", build.resource_quota(args), inside)
        self._object("limits", build.limit_range(args), inside)
        for policy in build.network_policies(args):
            self._object(f"netpol-{policy['metadata']['name']}", policy, inside)
        role = self._object("editor", build.editor_role(args), inside)
        self._object(
            "editors", build.editor_binding(args), self.child_opts(depends_on=[self.namespace, role], stateful=True)
        )
        self.identity = self._identity() if args.cluster.workload_identity is not None else None
        binding = self.identity.binding if self.identity else IdentityBinding({}, {})
        egress = identity_egress_policy(args.cluster, args.namespace, args.labels())
        if self.identity is not None and egress is not None:
            self._object(f"netpol-{egress['metadata']['name']}", egress, inside)
        self.service_account = self._object(
            "workload", build.workload_service_account(args, binding.annotations), inside
        )
        # the account the ServiceAccount controller creates: patched (its automount field only), never owned
        self._object("default-account", build.default_service_account_patch(args), inside, patch=True)
        self.handle = LineHandle(args.line.name, args.namespace, args.team.name, self.namespace)
        self.finish({"namespace": args.namespace, "serviceAccount": LINE_WORKLOAD_SERVICE_ACCOUNT})

    def _object(
        self, key: str, manifest: build.Manifest, opts: pulumi.ResourceOptions, *, patch: bool = False
    ) -> pulumi.CustomResource:
        return self.own(key, kube_resource(self.child_name(key), manifest, opts, patch=patch))

    def _identity(self) -> WorkloadIdentity:
        args = self.args
        identity_args = IdentityArgs(
            protection=args.protection,
            factory=args.factory,
            cluster=args.cluster,
            namespace=args.namespace,
            service_account=LINE_WORKLOAD_SERVICE_ACCOUNT,
            owner=args.line.name,
            owner_kind="line",
        )
        identity = WorkloadIdentity(self.child_name("identity"), identity_args, self.child_opts(stateful=True))
        return self.own("identity", identity)
