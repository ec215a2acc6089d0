"""Which SLOs a stack gets, from the stack file alone: per line its availability (`sloTarget`, from the metric
contract's operations or from a probe), and latency and throughput where `lines[].slo` asks for them; per cluster
the platform's own — the API server's availability, and the restore drill's success where drills run.

Every SLO carries the labels alerts are routed by (routing.py): `factory`, `cluster`, and for a line's also `line`,
`namespace` and `team`; a platform SLO has no `line`, so its alerts go to the platform team."""

from __future__ import annotations

from components.config.document import FactoryConfig
from components.config.factory import ClusterConfig
from components.config.lines import LineConfig
from components.observability.slo import contract
from components.observability.slo.model import Slo, events, probe_failures, slower_than

API_SERVER_OBJECTIVE = 0.999  # the API server answers all but one request in a thousand without a server error
# the drill's evidence is red at most 5 % of the time: a failed daily drill left unfixed for a day and a half
DRILL_OBJECTIVE = 0.95


def ratio_of(percent: float) -> float:
    """99.9 -> 0.999, not 0.9990000000000001: Sloth's dashboards print `slo:objective:ratio` as it is."""
    return round(percent / 100, 10)


def line_slos(config: FactoryConfig, line: LineConfig) -> list[Slo]:
    namespace = line.namespace
    labels = {
        "factory": config.factory.name,
        "cluster": line.cluster,
        "line": line.name,
        "namespace": namespace,
        "team": line.team,
    }
    probe = line.slo.probe
    availability = Slo(
        namespace,
        "availability",
        ratio_of(line.slo_target),
        probe_failures(namespace) if probe else events(namespace),
        (
            f"Probes of {probe} fail."
            if probe
            else f"Operations of line {line.name} fail (factory_line_operations_total)."
        ),
        labels,
    )
    slos = [availability]
    if line.slo.latency is not None:
        latency = line.slo.latency
        ratio = slower_than(contract.OPERATION_DURATION, namespace, latency.threshold_seconds)
        text = f"Operations of line {line.name} take longer than {latency.threshold_seconds:g} s."
        slos.append(Slo(namespace, "latency", ratio_of(latency.target), ratio, text, labels))
    if line.slo.throughput is not None:
        throughput = line.slo.throughput
        ratio = slower_than(contract.CYCLE_DURATION, namespace, throughput.takt_seconds)
        text = f"Production cycles of line {line.name} miss the {throughput.takt_seconds:g} s takt time."
        slos.append(Slo(namespace, "throughput", ratio_of(throughput.target), ratio, text, labels))
    return slos


def _api_server_errors(window: str) -> str:
    return f'sum(rate(apiserver_request_total{{code=~"5.."}}[{window}])) / sum(rate(apiserver_request_total[{window}]))'


def _drill_failed(window: str) -> str:
    # time-based: the share of the window in which the latest drill of any location had failed
    return f"avg_over_time((max(restore_drill:last_run_failed) or vector(0))[{window}:1m])"


def platform_slos(config: FactoryConfig, cluster: ClusterConfig, *, drills: bool) -> list[Slo]:
    labels = {"factory": config.factory.name, "cluster": cluster.name}
    service = f"platform-{cluster.name}"
    slos = [
        Slo(
            service,
            "api-server",
            API_SERVER_OBJECTIVE,
            _api_server_errors,
            f"The API server of cluster {cluster.name} answers with server errors.",
            labels,
        )
    ]
    if drills:
        slos.append(
            Slo(
                service,
                "restore-drill",
                DRILL_OBJECTIVE,
                _drill_failed,
                f"Restore drills of cluster {cluster.name} fail (restore_drill:last_run_failed).",
                labels,
            )
        )
    return slos


def cluster_slos(config: FactoryConfig, cluster: ClusterConfig, *, drills: bool) -> list[Slo]:
    """Every SLO whose rules run on `cluster`: its lines' and its platform's."""
    lines = [slo for line in config.lines_on(cluster.name) for slo in line_slos(config, line)]
    return [*lines, *platform_slos(config, cluster, drills=drills)]
