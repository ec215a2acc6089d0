"""Guard rails against a careless stack edit that silently disarms production.

Config validation refuses each of these edits before the program runs (`make plan` exits 2); these policies
judge what the program registers, so the same rules hold for a `pulumi up` that never ran `make plan`, or a
program changed to get round the config check:

- no binding hands a line to a Kubernetes `system:` group (every authenticated identity, every service
  account token, ...);
- in production every Gatekeeper constraint denies, and the Gatekeeper webhook fails closed;
- the images lines may run are exact, or a prefix ending in '/*' below at least one path segment of the
  registry — never a whole registry ('docker.io/*'), never a prefix that admits its neighbours
  ('ghcr.io/acme*' admits 'ghcr.io/acme-evil/...'), never the site mirror as a whole or a whole registry
  through it, and a line's own folder under the mirror only in that line's namespace.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pulumi_policy import PolicyResource, ReportViolation, ResourceValidationArgs, Severity, StackValidationArgs

from factory_policies.controls import (
    CIS_KUBERNETES,
    HELM_V4_CHART,
    IEC_62443,
    K8S_CLUSTER_ROLE_BINDING,
    K8S_ROLE_BINDING,
    dig,
    items,
    object_name,
)
from factory_policies.kit import each, resource_policy, stack_policy
from factory_policies.settings import environment, is_production, setting
from factory_policies.vocabulary import LINE_NAMESPACE_PREFIX

SYSTEM_GROUP_PREFIX = "system:"

# Every Gatekeeper constraint, whatever its kind and served version, is judged by this prefix. The kinds the
# platform applies today name the types in the compliance report (a test keeps them equal to the program's
# templates); a kind not listed is judged all the same.
CONSTRAINT_PREFIX = "kubernetes:constraints.gatekeeper.sh/"
CONSTRAINT_VERSIONS = ("v1beta1", "v1", "v1alpha1")
CONSTRAINT_KINDS = (
    "K8sAllowedReposv2",
    "K8sImmutableTags",
    "K8sRequiredLabels",
    "K8sLineLabel",
    "K8sLineScheduling",
    "K8sDisruptionAllowed",
    "K8sAllowedInlineCSIDrivers",
    "K8sAllowedRuntimeClasses",
    "K8sContainerLimits",
    "K8sContainerRequests",
    "K8sRequiredProbes",
    "K8sPSPHostNamespace",
    "K8sBlockNodePort",
    "K8sExternalIPs",
    "K8sBlockExternalName",
)
CONSTRAINT_TYPES = tuple(f"{CONSTRAINT_PREFIX}v1beta1:{kind}" for kind in CONSTRAINT_KINDS)
ALLOWED_REPOS_TYPES = tuple(f"{CONSTRAINT_PREFIX}{version}:K8sAllowedReposv2" for version in CONSTRAINT_VERSIONS)
ENFORCED = "deny"

GATEKEEPER_CHART = "gatekeeper"
FAIL_CLOSED = "Fail"

_HOST = r"[a-z0-9.-]+(:[0-9]{1,5})?"
EXACT_IMAGE_RE = re.compile(rf"^{_HOST}/[A-Za-z0-9._/:@-]+$")
IMAGE_PREFIX_RE = re.compile(rf"^{_HOST}(/[A-Za-z0-9._-]+)+/\*$")


# --- no system groups ----------------------------------------------------------------------------------


def _check_system_groups(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    name = object_name(args.props, args.name)
    for index, subject in enumerate(items(args.props, "subjects")):
        group = dig(subject, "name")
        if dig(subject, "kind") == "Group" and str(group or "").startswith(SYSTEM_GROUP_PREFIX):
            report_violation(
                f"{name}: subjects[{index}] binds the Kubernetes group '{group}': Kubernetes fills 'system:' "
                "groups itself (every authenticated identity, every service account, ...), so the role goes to "
                "all of them",
                None,
            )


rbac_no_system_groups = resource_policy(
    name="rbac-no-system-groups",
    title="No binding names a Kubernetes system: group",
    description=(
        "No RoleBinding or ClusterRoleBinding has a subject of kind Group whose name starts with 'system:'. "
        "Kubernetes puts identities into those groups itself — system:authenticated is everyone who can log "
        "in, system:serviceaccounts every workload's token, system:masters bypasses RBAC — so a team whose "
        "identity-provider group is written as one hands its line to all of them. The bindings Kubernetes "
        "itself needs are made by the cluster, never by this program, and no chart of the add-on catalogue "
        "binds such a group, so nothing is exempt."
    ),
    controls=(IEC_62443("SR 2.1"), IEC_62443("SR 1.1"), CIS_KUBERNETES("5.1.7")),
    resource_types=(K8S_ROLE_BINDING, K8S_CLUSTER_ROLE_BINDING),
    check=_check_system_groups,
    severity=Severity.CRITICAL,
    remediation=(
        "Bind the identity-provider group of the people who act for the team (`teams[].idpGroups`), never a "
        "'system:' group."
    ),
)


# --- constraints deny in production --------------------------------------------------------------------


def is_constraint(resource_type: str) -> bool:
    return resource_type.startswith(CONSTRAINT_PREFIX)


def _judge_constraint(resource: PolicyResource) -> Iterator[str]:
    action = dig(resource.props, "spec", "enforcementAction")
    if action != ENFORCED:
        kind = resource.resource_type.rsplit(":", 1)[-1]
        name = object_name(resource.props, resource.name)
        found = "not set" if action is None else f"'{action}'"
        yield (
            f"{kind} '{name}': spec.enforcementAction is {found}; a production stack states '{ENFORCED}' "
            "(dryrun and warn report violations and admit them)"
        )


def _check_enforced(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    if not is_production(args):
        return
    constraints = [r for r in args.resources if is_constraint(r.resource_type)]
    each(constraints, lambda r: list(_judge_constraint(r)), report_violation)


gatekeeper_enforced_in_production = stack_policy(
    name="gatekeeper-enforced-in-production",
    title="Gatekeeper constraints deny in production",
    description=(
        "In a production stack every Gatekeeper constraint (any kind or served version of "
        "constraints.gatekeeper.sh) sets spec.enforcementAction: deny. dryrun and warn only report what "
        "they find and admit it: a factory is rolled out with them in a staging or development stack."
    ),
    controls=(CIS_KUBERNETES("5.2.1"), IEC_62443("SR 2.1"), IEC_62443("SR 7.6")),
    resource_types=CONSTRAINT_TYPES,
    check=_check_enforced,
    severity=Severity.HIGH,
    remediation=(
        "Set `security.gatekeeper.enforcementAction: deny` (the default); audit with dryrun or warn only in a "
        "stack whose environment is staging or development."
    ),
    config=("environment",),
)


# --- the webhook fails closed in production ------------------------------------------------------------


def is_gatekeeper_chart(args: ResourceValidationArgs) -> bool:
    release, chart = dig(args.props, "name"), dig(args.props, "chart")
    return release == GATEKEEPER_CHART or str(chart or "").endswith(GATEKEEPER_CHART)


def _check_fail_closed(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not is_production(args) or not is_gatekeeper_chart(args):
        return
    policy = dig(args.props, "values", "validatingWebhookFailurePolicy")
    if policy != FAIL_CLOSED:
        found = "not set (the chart's default is Ignore)" if policy is None else f"'{policy}'"
        report_violation(
            f"Gatekeeper chart '{dig(args.props, 'chart') or args.name}': values.validatingWebhookFailurePolicy "
            f"is {found} in a {environment(args)} stack; the API server would admit every request unjudged "
            f"while Gatekeeper is down, restarting or slow — set '{FAIL_CLOSED}'",
            None,
        )


gatekeeper_webhook_fail_closed_in_production = resource_policy(
    name="gatekeeper-webhook-fail-closed-in-production",
    title="The Gatekeeper webhook fails closed in production",
    description=(
        "In a production stack the Gatekeeper chart (a kubernetes.helm.v4.Chart whose release name is "
        "gatekeeper, or whose chart ends with gatekeeper) sets values.validatingWebhookFailurePolicy: Fail. "
        "With Ignore — the chart's own default — every request is admitted unjudged whenever the webhook "
        "cannot answer, and an attacker only has to make Gatekeeper slow. Failing open is an explicit stack "
        "setting for staging or development, never a side effect of a cluster's profile."
    ),
    controls=(CIS_KUBERNETES("5.2.1"), IEC_62443("SR 7.6"), IEC_62443("SR 2.1")),
    resource_types=(HELM_V4_CHART,),
    check=_check_fail_closed,
    severity=Severity.HIGH,
    remediation=(
        "Leave `security.gatekeeper.webhookFailurePolicy` at Fail (the default); Ignore is only for a stack "
        "whose environment is staging or development."
    ),
    config=("environment",),
)


# --- allowed images are narrow -------------------------------------------------------------------------


def image_entry_problem(entry: str) -> str | None:
    """None for an exact image (no '*') or a prefix of the registry host and at least one path segment
    ending in '/*'; otherwise what is wrong with the entry."""
    if "*" not in entry:
        return None if EXACT_IMAGE_RE.match(entry) else "is not an image with its registry host"
    if IMAGE_PREFIX_RE.match(entry):
        return None
    if entry == "*":
        return "admits every image of every registry"
    if re.fullmatch(rf"{_HOST}/\*", entry):
        return "admits every image of a whole registry; name at least one path segment under the registry host"
    if not entry.endswith("/*"):
        return "is a prefix that does not end at a '/', so it also admits its neighbours (acme* admits acme-evil)"
    return "has a '*' before its end; a prefix is the registry host, at least one path segment and '/*'"


def _registry_host(segment: str) -> bool:
    """Docker's reference grammar: a first segment with a '.' or ':' (or 'localhost') names a registry; the site
    mirror keeps it as the first segment of every mirrored path."""
    return "." in segment or ":" in segment or segment == "localhost"


# a line's own folder under the site mirror: <mirror>/<factory>-lines/<line>/
LINE_FOLDER_RE = re.compile(r"^[a-z0-9-]+-lines/(?P<line>[a-z0-9-]+)/")


def mirror_entry_problem(entry: str, mirror: str, namespaces: list[str]) -> str | None:
    """What is wrong with an entry under the site mirror (a proxy cache, which fetches anything), given the
    namespaces the constraint judges; None when nothing is."""
    if not mirror:
        return None
    if entry.endswith("*") and f"{mirror}/".startswith(entry[:-1]):
        return f"admits everything the site mirror '{mirror}' can fetch (a proxy cache: all of Docker Hub)"
    if not entry.startswith(f"{mirror}/"):
        return None
    below = entry[len(mirror) + 1 :]
    first, _, rest = below.partition("/")
    if _registry_host(first):
        return f"admits every image of the registry '{first}' through the site mirror" if rest == "*" else None
    folder = LINE_FOLDER_RE.match(below)
    if folder and namespaces != [LINE_NAMESPACE_PREFIX + folder["line"]]:
        line = folder["line"]
        return (
            f"is line '{line}''s own folder under the site mirror; only a constraint judging its namespace alone "
            f"(spec.match.namespaces: [{LINE_NAMESPACE_PREFIX}{line}]) may allow it"
        )
    return None


def _check_narrow(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    mirror = str(setting(args, "registryMirror") or "")
    namespaces = [str(n) for n in items(args.props, "spec", "match", "namespaces")]
    name = object_name(args.props, args.name)
    for index, entry in enumerate(items(args.props, "spec", "parameters", "allowedImages")):
        problem = image_entry_problem(str(entry)) or mirror_entry_problem(str(entry), mirror, namespaces)
        if problem:
            report_violation(
                f"K8sAllowedReposv2 '{name}': spec.parameters.allowedImages[{index}] '{entry}' {problem}", None
            )


allowed_images_narrow = resource_policy(
    name="allowed-images-narrow",
    title="Allowed-image entries are exact images or prefixes below a registry path",
    description=(
        "Every entry of a K8sAllowedReposv2 constraint's spec.parameters.allowedImages is an exact image (no "
        "'*'), or a prefix made of the registry host, at least one path segment and '/*'. The constraint "
        "matches by plain string prefix: 'docker.io/*' admits everything anyone pushed to Docker Hub, and "
        "'ghcr.io/acme*' admits 'ghcr.io/acme-evil/...'. When the pack config names the site mirror (`make plan` "
        "does), neither '<registryMirror>/*' nor '<registryMirror>/<registry>/*' is accepted (a proxy cache "
        "fetches anything: all of Docker Hub), and a line's own folder, '<registryMirror>/<factory>-lines/<line>/', "
        "only in a constraint that judges that line's namespace alone."
    ),
    controls=(CIS_KUBERNETES("5.5.1"), IEC_62443("SR 3.4"), IEC_62443("SR 7.8")),
    resource_types=ALLOWED_REPOS_TYPES,
    check=_check_narrow,
    severity=Severity.HIGH,
    remediation=(
        "List exact images, or prefixes such as 'registry.plant.local/lines/*' in "
        "`security.gatekeeper.allowedImages`; never a whole registry, the site mirror as a whole or a prefix that "
        "does not end in '/*'; each line's own images go to its folder under the mirror."
    ),
    config=("registryMirror",),
)
