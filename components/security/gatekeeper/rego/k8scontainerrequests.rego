# Every container and init container declares CPU and memory requests, so the scheduler places a line's
# pods by what they need and a line's ResourceQuota accounts for them; optionally no higher than a
# maximum. Same parameters and meaning as the gatekeeper-library template: `cpu` and `memory` are the
# maximums (without them only presence is required), `exemptImages` lists images (exact, or prefix ending
# in '*') that are not judged. Ephemeral containers are not judged: the API refuses resources on them.
package k8scontainerrequests

import data.lib.factory.workloads
import rego.v1

violation contains {"msg": msg} if {
	some container in judged
	value := container.resources.requests.cpu
	not workloads.cpu_millicores(value)
	msg := sprintf("container <%v> cpu request <%v> could not be parsed", [container.name, value])
}

violation contains {"msg": msg} if {
	some container in judged
	value := container.resources.requests.memory
	not workloads.memory_bytes(value)
	msg := sprintf("container <%v> memory request <%v> could not be parsed", [container.name, value])
}

violation contains {"msg": msg} if {
	some container in judged
	not container.resources.requests
	msg := sprintf("container <%v> has no resource requests", [container.name])
}

violation contains {"msg": msg} if {
	some container in judged
	requests := container.resources.requests
	some resource in ["cpu", "memory"]
	not requests[resource]
	msg := sprintf("container <%v> has no %v request", [container.name, resource])
}

# strictly above: a request equal to the maximum is allowed
violation contains {"msg": msg} if {
	some container in judged
	value := container.resources.requests.cpu
	workloads.cpu_millicores(value) > workloads.cpu_millicores(input.parameters.cpu)
	msg := sprintf("container <%v> cpu request <%v> is higher than the maximum allowed of <%v>", [container.name, value, input.parameters.cpu])
}

violation contains {"msg": msg} if {
	some container in judged
	value := container.resources.requests.memory
	workloads.memory_bytes(value) > workloads.memory_bytes(input.parameters.memory)
	msg := sprintf("container <%v> memory request <%v> is higher than the maximum allowed of <%v>", [container.name, value, input.parameters.memory])
}

judged contains container if {
	some container in workloads.resource_containers
	not workloads.image_matches(container.image, object.get(input, ["parameters", "exemptImages"], []))
}
