# Images must come from the allow-list: an entry matches exactly, or as a prefix when it ends with '*'.
# Exact/prefix-with-star matching closes the bypass of plain prefix matching ("registry.plant" would
# otherwise also admit "registry.plant.attacker.example/...").
package k8sallowedreposv2

import data.lib.factory.workloads
import rego.v1

violation contains {"msg": msg} if {
	some entry in workloads.containers
	not allowed(entry.container.image)
	msg := sprintf("%v <%v> uses image <%v>, which is not in the allowed images %v", [entry.field, entry.container.name, entry.container.image, input.parameters.allowedImages])
}

allowed(image) if {
	some pattern in input.parameters.allowedImages
	pattern == image
}

allowed(image) if {
	some pattern in input.parameters.allowedImages
	endswith(pattern, "*")
	startswith(image, trim_suffix(pattern, "*"))
}
