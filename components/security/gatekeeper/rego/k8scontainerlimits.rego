# Every container declares CPU and memory requests and limits, so one line cannot starve a cell's node.
package k8scontainerlimits

import data.lib.factory.workloads
import rego.v1

violation contains {"msg": msg} if {
	some entry in workloads.containers
	some kind in ["limits", "requests"]
	some resource in ["cpu", "memory"]
	not entry.container.resources[kind][resource]
	msg := sprintf("%v <%v> has no %v.%v", [entry.field, entry.container.name, kind, resource])
}
