# A pod runs in the default runtime, or in an allowed RuntimeClass (`allowedRuntimeClasses`, exact names; none
# by default). Pod Security 'restricted' allows any runtimeClassName, and a RuntimeClass chooses the container
# runtime handler on the node — one configured without the usual isolation (or privileged) escapes what every
# other rule assumes. A Pod's runtimeClassName cannot change: an UPDATE of a Pod is not judged.
package k8sallowedruntimeclasses

import data.lib.factory.workloads
import rego.v1

violation contains {"msg": msg} if {
	not workloads.immutable_pod_update
	spec := workloads.pod_spec(input.review.object)
	runtime_class := object.get(spec, "runtimeClassName", "")
	runtime_class != ""
	not runtime_class in object.get(input.parameters, "allowedRuntimeClasses", [])
	msg := sprintf("%v <%v> runs in RuntimeClass <%v>, which is not in the allowed runtime classes %v", [input.review.object.kind, input.review.object.metadata.name, runtime_class, object.get(input.parameters, "allowedRuntimeClasses", [])])
}
