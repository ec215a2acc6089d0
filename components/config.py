"""Typed factory configuration: the only input of the program.

A stack file (`stacks/Pulumi.<factory>.yaml`) holds one key per section under the project namespace
(`factory-floor:factory`, `factory-floor:clusters`, ...). `load_factory_config` validates every section,
every list item and every cross-reference, and reports *all* problems at once, each with the config path
a user can find in the stack file (for example `factory-floor:lines[2].cluster`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, Field, TypeAdapter, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from components.config_security import MANAGED_CLOUD, LineSecret, SecurityConfig, VaultPath, WorkloadIdentityConfig
from components.config_types import (
    CHART_MIRROR_RE,
    LINE_NAMESPACE_PREFIX,
    MANAGED_DISTRIBUTIONS,
    PROJECT,
    REGISTRY_RE,
    RESERVED_LINE_NAMES,
    SUPPORTED_KUBERNETES_MINORS,
    ConfigKey,
    Criticality,
    Distribution,
    Environment,
    LineName,
    Name,
    Port,
    Profile,
    StrictModel,
)
from components.config_types import (
    kubernetes_version as valid_kubernetes_version,
)
from components.config_types import (
    pattern as matches,
)
from components.config_types import (
    timezone as valid_timezone,
)

__all__ = [
    "LINE_NAMESPACE_PREFIX",
    "MANAGED_DISTRIBUTIONS",
    "PROJECT",
    "SUPPORTED_KUBERNETES_MINORS",
    "Criticality",
    "Profile",
]


class FactoryIdentity(StrictModel):
    name: Name = Field(description="Factory id, used in every resource name and label (DNS label).")
    site: str = Field(min_length=1, description="Human-readable plant location, e.g. 'Augsburg Plant 2'.")
    region: Annotated[
        str, AfterValidator(matches(re.compile(r"^[a-z0-9-]+$"), "lowercase letters, digits and '-'"))
    ] = Field(description="Region the plant belongs to (also the default cloud region for its backups).")
    timezone: Annotated[str, AfterValidator(valid_timezone)] = Field(
        description="IANA time zone of the plant; schedules (backups, drills, chaos) run in plant time."
    )


class KubeconfigSource(StrictModel):
    secret_key: ConfigKey = Field(
        description=(
            "Name of the secret stack config key in this project's namespace that holds the kubeconfig. "
            'Set it with `pulumi config set --secret <key> "$(cat kubeconfig)"` or import it from a '
            "Pulumi ESC environment (`values.pulumiConfig`). A plaintext value is rejected."
        )
    )
    context: str | None = Field(
        default=None, description="Context inside the kubeconfig; the kubeconfig's current context if unset."
    )


class ClusterConfig(StrictModel):
    name: Name = Field(description="Cluster id, unique in the factory.")
    distribution: Distribution = Field(description="Kubernetes distribution; decides platform defaults.")
    kubernetes_version: Annotated[str, AfterValidator(valid_kubernetes_version)] = Field(
        description="Kubernetes minor version ('1.31'); pins Pod Security labels and manifest validation."
    )
    profile: Profile = Field(
        description="Sizing profile: replicas, quotas, requests/limits, retention, which add-ons run."
    )
    workload_identity: WorkloadIdentityConfig | None = Field(
        default=None,
        description=(
            "Cloud identity federation for line workloads. EKS needs `aws`, GKE `gcp`, AKS `azure`; k3s/RKE2 may "
            "federate any cloud through a self-hosted OIDC issuer. Unset: lines get no cloud identity."
        ),
    )
    vault_auth_mount_path: VaultPath | None = Field(
        default=None, description="This cluster's Vault Kubernetes auth mount (default `security.vault.authMountPath`)."
    )
    kubeconfig: KubeconfigSource = Field(
        description="Where the explicit Kubernetes provider gets its credentials (never ambient kubeconfig)."
    )


class TeamConfig(StrictModel):
    name: Name = Field(description="Team id, referenced by lines as their owner.")
    idp_groups: list[Annotated[str, Field(min_length=1)]] = Field(
        min_length=1,
        description="Identity-provider groups (OIDC `groups` claim) whose members act for the team.",
    )
    contact: str | None = Field(default=None, description="Team mailbox or chat channel for alerts.")

    @model_validator(mode="after")
    def _groups_unique(self) -> TeamConfig:
        if len(set(self.idp_groups)) != len(self.idp_groups):
            raise ValueError("idpGroups lists a group more than once")
        return self


class FlowConfig(StrictModel):
    to: LineName = Field(description="Target line of this conduit (same cluster).")
    ports: list[Port] = Field(min_length=1, description="Destination ports on the target line's pods.")
    protocol: Literal["TCP", "UDP", "SCTP"] = Field(default="TCP", description="Transport protocol.")
    description: str | None = Field(default=None, description="Why this conduit exists (audit trail).")

    @model_validator(mode="after")
    def _ports_unique(self) -> FlowConfig:
        if len(set(self.ports)) != len(self.ports):
            raise ValueError("ports lists a port more than once")
        return self


class LineConfig(StrictModel):
    name: LineName = Field(description="Line id; its namespace is `line-<name>`.")
    cluster: Name = Field(description="Cluster the line runs on (a `clusters[].name`).")
    team: Name = Field(description="Owning team (a `teams[].name`); its groups get edit rights in the line.")
    criticality: Criticality = Field(
        default="standard", description="Scales quotas and, in later stages, alerting severity."
    )
    slo_target: float = Field(
        default=99.5, gt=90, lt=100, description="Availability objective in percent over 30 days."
    )
    flows: list[FlowConfig] = Field(
        default_factory=list, description="Declared conduits from this line to other lines."
    )
    metrics_port: Port = Field(default=9464, description="Port the observability stack may scrape on the line's pods.")
    chaos_opt_in: bool = Field(default=False, description="Allow chaos experiments to target this line's namespace.")
    secrets: list[LineSecret] = Field(
        default_factory=list,
        description="Secrets the line needs, synced from Vault by External Secrets (values never pass here).",
    )

    @staticmethod
    def namespace_of(line_name: str) -> str:
        return LINE_NAMESPACE_PREFIX + line_name

    @property
    def namespace(self) -> str:
        return self.namespace_of(self.name)


class SiteConfig(StrictModel):
    registry_mirror: (
        Annotated[
            str,
            AfterValidator(matches(REGISTRY_RE, "a registry host[:port][/path], e.g. 'registry.plant.local/mirror'")),
        ]
        | None
    ) = Field(default=None, description="Container registry mirror that replaces every image registry.")
    chart_mirror: (
        Annotated[
            str,
            AfterValidator(
                matches(CHART_MIRROR_RE, "an https:// or oci:// URL, e.g. 'oci://registry.plant.local/charts'")
            ),
        ]
        | None
    ) = Field(default=None, description="Helm chart mirror that replaces every chart repository.")


class FactoryConfig(StrictModel):
    environment: Environment = Field(
        default="production", description="Stage of this stack; production tightens retention and locks."
    )
    factory: FactoryIdentity = Field(description="Who and where the factory is.")
    clusters: list[ClusterConfig] = Field(min_length=1, description="Kubernetes clusters of the factory.")
    teams: list[TeamConfig] = Field(min_length=1, description="Teams that own production lines.")
    lines: list[LineConfig] = Field(min_length=1, description="Production lines (one namespace each).")
    site: SiteConfig = Field(default_factory=SiteConfig, description="Site-wide settings (mirrors).")
    security: SecurityConfig = Field(
        default_factory=SecurityConfig, description="Zero-trust baseline: Gatekeeper, Vault, Falco."
    )

    @model_validator(mode="after")
    def _references(self) -> FactoryConfig:
        problems = cross_reference_problems(self.clusters, self.teams, self.lines)
        problems += security_problems(self.security, self.site, self.clusters, self.lines)
        if problems:
            raise ValueError("; ".join(f"{p.path}: {p.message}" for p in problems))
        return self

    def cluster(self, name: str) -> ClusterConfig:
        return next(c for c in self.clusters if c.name == name)

    def lines_on(self, cluster: str) -> list[LineConfig]:
        return [line for line in self.lines if line.cluster == cluster]


# ---------------------------------------------------------------------------------------------------
# Problems and their paths


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class FactoryConfigError(Exception):
    """Every problem of a stack's configuration, ready to show a user (no traceback needed)."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid factory configuration ({len(self.problems)} problem(s)):\n{lines}")


def config_path(loc: Sequence[str | int]) -> str:
    """('lines', 2, 'cluster') -> 'factory-floor:lines[2].cluster'"""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return f"{PROJECT}:{text}"


# ---------------------------------------------------------------------------------------------------
# Cross-references (run on every item that validated, so they are reported together with field errors)

M = TypeVar("M", bound=BaseModel)


def _indexed(items: Sequence[M | None]) -> Iterator[tuple[int, M]]:
    return ((i, item) for i, item in enumerate(items) if item is not None)


def _field(item: Any, name: str) -> Any:
    # items that failed validation are checked from the fields that did validate (see _partial)
    return getattr(item, name, None)


def _duplicates(section: str, items: Sequence[Any]) -> list[Problem]:
    seen: dict[str, int] = {}
    problems = []
    for i, item in _indexed(items):
        name = _field(item, "name")
        if name is None:
            continue
        if name in seen:
            problems.append(
                Problem(
                    config_path((section, i, "name")),
                    f"'{name}' is already used by {section}[{seen[name]}]; names must be unique",
                )
            )
        else:
            seen[name] = i
    return problems


def _unknown(kind: str, value: str, known: Sequence[str]) -> str:
    hint = difflib.get_close_matches(value, known, n=1)
    suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
    return f"unknown {kind} '{value}'{suggestion}; defined: {', '.join(known) or 'none'}"


def _names(items: Sequence[Any]) -> list[str]:
    return sorted({name for _, item in _indexed(items) if (name := _field(item, "name")) is not None})


def cross_reference_problems(
    clusters: Sequence[ClusterConfig | None],
    teams: Sequence[TeamConfig | None],
    lines: Sequence[LineConfig | None],
) -> list[Problem]:
    problems = _duplicates("clusters", clusters) + _duplicates("teams", teams) + _duplicates("lines", lines)
    cluster_names, team_names = _names(clusters), _names(teams)
    # a line whose own cluster is unknown maps to None: that is reported once, not again for every flow
    line_cluster = {
        _field(line, "name"): c if (c := _field(line, "cluster")) in cluster_names else None
        for _, line in _indexed(lines)
    }
    line_cluster.pop(None, None)
    for i, line in _indexed(lines):
        name, cluster, team = _field(line, "name"), _field(line, "cluster"), _field(line, "team")
        if name in RESERVED_LINE_NAMES:
            problems.append(Problem(config_path(("lines", i, "name")), f"'{name}' is reserved for the platform"))
        if cluster is not None and cluster not in cluster_names:
            problems.append(Problem(config_path(("lines", i, "cluster")), _unknown("cluster", cluster, cluster_names)))
        if team is not None and team not in team_names:
            problems.append(Problem(config_path(("lines", i, "team")), _unknown("team", team, team_names)))
        if name is not None:
            known_cluster = cluster if cluster in cluster_names else None  # an unknown one is reported above
            problems.extend(_flow_problems(i, name, known_cluster, _field(line, "flows") or [], line_cluster))
    return problems


def _flow_problems(
    index: int, name: str, cluster: str | None, flows: Sequence[FlowConfig], line_cluster: Mapping[str, str | None]
) -> list[Problem]:
    problems = []
    targets: set[tuple[str, str]] = set()
    for j, flow in enumerate(flows):
        path = config_path(("lines", index, "flows", j, "to"))
        if flow.to == name:
            problems.append(Problem(path, "a line cannot declare a flow to itself (pods in a line talk freely)"))
        elif flow.to not in line_cluster:
            problems.append(Problem(path, _unknown("line", flow.to, sorted(line_cluster))))
        elif line_cluster[flow.to] not in (None, cluster) and cluster is not None:
            problems.append(
                Problem(
                    path,
                    f"line '{flow.to}' runs on cluster '{line_cluster[flow.to]}', not '{cluster}'; "
                    "NetworkPolicies cannot span clusters, so cross-cluster conduits are not supported",
                )
            )
        if (flow.to, flow.protocol) in targets:
            problems.append(
                Problem(path, f"a {flow.protocol} flow to '{flow.to}' is already declared; merge their ports")
            )
        targets.add((flow.to, flow.protocol))
    return problems


def security_problems(
    security: SecurityConfig,
    site: SiteConfig,
    clusters: Sequence[ClusterConfig | None],
    lines: Sequence[LineConfig | None],
) -> list[Problem]:
    problems = []
    if not security.gatekeeper.allowed_images and site.registry_mirror is None:
        problems.append(
            Problem(
                config_path(("security", "gatekeeper", "allowedImages")),
                "is required when site.registryMirror is not set: list the registries lines may pull from",
            )
        )
    for i, cluster in _indexed(clusters):
        identity, distribution = _field(cluster, "workload_identity"), _field(cluster, "distribution")
        expected = MANAGED_CLOUD.get(distribution or "")
        if identity is not None and expected is not None and identity.cloud != expected:
            problems.append(
                Problem(
                    config_path(("clusters", i, "workloadIdentity")),
                    f"a {distribution} cluster federates with {expected} only, not {identity.cloud}",
                )
            )
    for i, line in _indexed(lines):
        secrets = _field(line, "secrets") or []
        if secrets and security.vault is None:
            problems.append(
                Problem(config_path(("lines", i, "secrets")), "needs security.vault: secrets come from Vault only")
            )
        names = [secret.name for secret in secrets]
        for j, name in enumerate(names):
            if name in names[:j]:
                problems.append(Problem(config_path(("lines", i, "secrets", j, "name")), f"'{name}' is declared twice"))
    return problems


def _partial(model: type[M], raw: Any) -> M | None:
    """The fields of an invalid item that do validate on their own, so its references still get checked."""
    if not isinstance(raw, Mapping):
        return None
    values = {}
    for name, info in model.model_fields.items():
        if info.alias not in raw:
            continue
        try:
            annotation: Any = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
            values[name] = TypeAdapter(annotation).validate_python(raw[info.alias])
        except ValidationError:
            continue
    return model.model_construct(_fields_set=set(values), **values)


# ---------------------------------------------------------------------------------------------------
# Loading


SECTIONS: dict[str, Any] = {
    "environment": FactoryConfig.model_fields["environment"].annotation,
    "factory": FactoryIdentity,
    "clusters": ClusterConfig,
    "teams": TeamConfig,
    "lines": LineConfig,
    "site": SiteConfig,
    "security": SecurityConfig,
}
LIST_SECTIONS = frozenset({"clusters", "teams", "lines"})
REQUIRED_SECTIONS = ("factory", "clusters", "teams", "lines")


def _pydantic_problems(error: ValidationError, model: Any, prefix: tuple[Any, ...]) -> list[Problem]:
    problems = []
    for item in error.errors(include_url=False):
        loc = (*prefix, *item["loc"])
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = _unknown_key_message(str(item["loc"][-1]), model, item["loc"][:-1])
        elif item["type"] == "missing":
            message = "is required"
        elif item["type"] in ("value_error", "assertion_error"):
            message = message.removeprefix("Value error, ")
        problems.append(Problem(config_path(loc), message))
    return problems


def _allowed_keys(model: Any, loc: Sequence[str | int]) -> list[str]:
    """Walk a model along an error location to list the keys allowed where an unknown key was found."""
    current = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        field = next((f for f in current.model_fields.values() if f.alias == part), None)
        current = _model_of(field.annotation) if field else None
    if current is None:
        return []
    return [f.alias for f in current.model_fields.values() if f.alias]


def _model_of(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _unknown_key_message(key: str, model: Any, loc: Sequence[str | int]) -> str:
    allowed = _allowed_keys(model, loc)
    hint = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
    suggestion = f"did you mean '{hint[0]}'? " if hint else ""
    return f"unknown key '{key}'; {suggestion}allowed keys: {', '.join(allowed)}"


def _validate_section(name: str, value: Any) -> tuple[Any, list[Problem]]:
    """Validate one section; list sections item by item so one bad item does not hide the others."""
    model = SECTIONS[name]
    if name in LIST_SECTIONS:
        if not isinstance(value, list):
            return None, [Problem(config_path((name,)), f"must be a list of {name}, got {type(value).__name__}")]
        if not value:
            return None, [Problem(config_path((name,)), f"must declare at least one entry in {name}")]
        items: list[Any] = []
        problems: list[Problem] = []
        for i, raw in enumerate(value):
            try:
                items.append(model.model_validate(raw))
            except ValidationError as error:
                items.append(_partial(model, raw))
                problems.extend(_pydantic_problems(error, model, (name, i)))
        return items, problems
    adapter = TypeAdapter(model)
    try:
        return adapter.validate_python(value), []
    except ValidationError as error:
        model_cls = model if isinstance(model, type) and issubclass(model, BaseModel) else None
        return None, _pydantic_problems(error, model_cls, (name,))


def load_factory_config(raw: Mapping[str, Any]) -> FactoryConfig:
    """Validate a stack's config (keys without the project prefix) and return the typed config.

    Keys that belong to no section must be a cluster's kubeconfig secret key; anything else is a typo
    worth reporting. Raises FactoryConfigError listing every problem.
    """
    problems: list[Problem] = []
    parsed: dict[str, Any] = {}
    for name in SECTIONS:
        if name not in raw:
            if name in REQUIRED_SECTIONS:
                problems.append(Problem(config_path((name,)), "is required"))
            continue
        parsed[name], section_problems = _validate_section(name, raw[name])
        problems.extend(section_problems)

    clusters, teams, lines = (parsed.get(s) or [] for s in ("clusters", "teams", "lines"))
    problems.extend(cross_reference_problems(clusters, teams, lines))
    if "security" not in raw or parsed.get("security") is not None:
        problems.extend(
            security_problems(
                parsed.get("security") or SecurityConfig(), parsed.get("site") or SiteConfig(), clusters, lines
            )
        )
    problems.extend(_stray_key_problems(raw, clusters))
    if problems:
        raise FactoryConfigError(sorted(set(problems), key=lambda p: (p.path, p.message)))
    return FactoryConfig.model_validate(
        {to_camel(k): v.model_dump(by_alias=True) if isinstance(v, BaseModel) else _dump(v) for k, v in parsed.items()}
    )


def _dump(value: Any) -> Any:
    if isinstance(value, list):
        return [v.model_dump(by_alias=True) if isinstance(v, BaseModel) else v for v in value]
    return value


def _stray_key_problems(raw: Mapping[str, Any], clusters: Sequence[ClusterConfig | None]) -> list[Problem]:
    sources = [_field(c, "kubeconfig") for _, c in _indexed(clusters)]
    secret_keys = {source.secret_key for source in sources if source is not None}
    known = [*SECTIONS, *sorted(secret_keys)]
    problems = []
    for key in raw:
        if key in SECTIONS or key in secret_keys:
            continue
        hint = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
        suggestion = f"did you mean '{hint[0]}'? " if hint else ""
        problems.append(
            Problem(config_path((key,)), f"unknown config key; {suggestion}allowed keys: {', '.join(known)}")
        )
    return problems
