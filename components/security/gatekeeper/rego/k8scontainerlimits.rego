# Every container and init container declares CPU and memory limits no higher than the cluster's
# container maximum, so one line cannot starve a cell's node. Same parameters and meaning as the
# gatekeeper-library template: `cpu` and `memory` are the maximums (cpu "-1" switches the CPU checks off,
# for workloads that must not be CPU-throttled), `exemptImages` lists images (exact, or prefix ending in
# '*') that are not judged. Ephemeral containers are not judged: the API refuses resources on them.
package k8scontainerlimits

import data.lib.factory.workloads
import rego.v1

violation contains {"msg": msg} if {
	some container in judged
	cpu_judged
	value := container.resources.limits.cpu
	not workloads.cpu_millicores(value)
	msg := sprintf("container <%v> cpu limit <%v> could not be parsed", [container.name, value])
}

# a memory limit Kubernetes would read differently from us is reported whatever cpu says
violation contains {"msg": msg} if {
	some container in judged
	value := container.resources.limits.memory
	not workloads.memory_bytes(value)
	msg := sprintf("container <%v> memory limit <%v> could not be parsed", [container.name, value])
}

violation contains {"msg": msg} if {
	some container in judged
	not container.resources.limits
	msg := sprintf("container <%v> has no resource limits", [container.name])
}

violation contains {"msg": msg} if {
	some container in judged
	cpu_judged
	limits := container.resources.limits
	not limits.cpu
	msg := sprintf("container <%v> has no cpu limit", [container.name])
}

violation contains {"msg": msg} if {
	some container in judged
	limits := container.resources.limits
	not limits.memory
	msg := sprintf("container <%v> has no memory limit", [container.name])
}

# strictly above: a limit equal to the maximum is what the line's LimitRange allows too
violation contains {"msg": msg} if {
	some container in judged
	cpu_judged
	value := container.resources.limits.cpu
	workloads.cpu_millicores(value) > workloads.cpu_millicores(input.parameters.cpu)
	msg := sprintf("container <%v> cpu limit <%v> is higher than the maximum allowed of <%v>", [container.name, value, input.parameters.cpu])
}

# without a `memory` parameter only its presence is required
violation contains {"msg": msg} if {
	some container in judged
	value := container.resources.limits.memory
	workloads.memory_bytes(value) > workloads.memory_bytes(input.parameters.memory)
	msg := sprintf("container <%v> memory limit <%v> is higher than the maximum allowed of <%v>", [container.name, value, input.parameters.memory])
}

judged contains container if {
	some container in workloads.resource_containers
	not workloads.image_matches(container.image, object.get(input, ["parameters", "exemptImages"], []))
}

# CPU is judged only when the constraint names a maximum: as in the library, a constraint without `cpu`
# leaves CPU alone, and "-1" (or the number -1, which the schema admits) switches it off explicitly
cpu_judged if {
	maximum := input.parameters.cpu
	not maximum in {"-1", -1}
}
