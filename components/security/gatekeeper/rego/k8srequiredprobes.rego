# Long-running containers declare the probes the platform relies on for rollouts and SLO accounting.
# An UPDATE of a Pod is not judged: a Pod's probes are immutable, so refusing the update would only block
# the metadata changes its deletion and controller need (see lib workloads.immutable_pod_update).
package k8srequiredprobes

import data.lib.factory.workloads
import rego.v1

violation contains {"msg": msg} if {
	not workloads.immutable_pod_update
	some container in workloads.app_containers
	some probe in input.parameters.probes
	not has_probe(container, probe)
	msg := sprintf("container <%v> has no %v using one of %v", [container.name, probe, input.parameters.probeTypes])
}

has_probe(container, probe) if {
	some probe_type in input.parameters.probeTypes
	container[probe][probe_type]
}
