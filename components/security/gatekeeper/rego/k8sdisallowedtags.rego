# Images are pinned: a tag that is not in the disallowed list (latest by default), or a digest.
package k8sdisallowedtags

import data.lib.factory.workloads
import rego.v1

violation contains {"msg": msg} if {
	some entry in workloads.containers
	image := entry.container.image
	not exempt(image)
	not pinned(image)
	msg := sprintf("%v <%v> uses image <%v> without a tag or digest", [entry.field, entry.container.name, image])
}

violation contains {"msg": msg} if {
	some entry in workloads.containers
	image := entry.container.image
	not exempt(image)
	not contains(image, "@")
	tag := image_tag(image)
	tag in input.parameters.tags
	msg := sprintf("%v <%v> uses the disallowed tag <%v> in <%v>", [entry.field, entry.container.name, tag, image])
}

exempt(image) if {
	some pattern in object.get(input.parameters, "exemptImages", [])
	pattern == image
}

pinned(image) if contains(image, "@")

pinned(image) if image_tag(image) != ""

# the tag is what follows the last ':' after the last '/', so a registry port is not mistaken for a tag
image_tag(image) := tag if {
	parts := split(image, "/")
	name := parts[count(parts) - 1]
	contains(name, ":")
	pieces := split(name, ":")
	tag := pieces[count(pieces) - 1]
} else := ""
