# Images are pinned: by digest, or by a tag matching one of the tag patterns (RE2, matched against the whole
# tag) of releases the registry keeps immutable. Moving tags — latest, main, stable, a bare major '1' — name
# whatever was pushed last, so what was reviewed is not what runs. An image without a tag is latest.
# `exemptImages` (exact, or a prefix ending in '*') are not judged. Images of Pods can be changed, so UPDATEs
# are judged like CREATEs, as in the gatekeeper-library's disallowed-tags template.
package k8simmutabletags

import data.lib.factory.workloads
import rego.v1

violation contains {"msg": msg} if {
	some entry in workloads.containers
	image := entry.container.image
	not judged_elsewhere(image)
	tag := image_tag(image)
	tag == ""
	msg := sprintf("%v <%v> uses image <%v> without a tag or digest (it resolves to latest)", [entry.field, entry.container.name, image])
}

violation contains {"msg": msg} if {
	some entry in workloads.containers
	image := entry.container.image
	not judged_elsewhere(image)
	tag := image_tag(image)
	tag != ""
	not immutable(tag)
	msg := sprintf("%v <%v> uses image <%v>: tag <%v> can move; pin a digest (@sha256:...) or a release tag matching one of %v", [entry.field, entry.container.name, image, tag, input.parameters.tagPatterns])
}

judged_elsewhere(image) if workloads.image_matches(image, object.get(input.parameters, "exemptImages", []))

judged_elsewhere(image) if regex.match(`@(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$`, image)

immutable(tag) if {
	some pattern in input.parameters.tagPatterns
	regex.match(sprintf("^(?:%v)$", [pattern]), tag)
}

# the tag is what follows the last ':' after the last '/', so a registry port is not mistaken for a tag; a
# reference with a digest that is not sha256/sha512 is judged by its tag
image_tag(image) := tag if {
	parts := split(split(image, "@")[0], "/")
	name := parts[count(parts) - 1]
	contains(name, ":")
	pieces := split(name, ":")
	tag := pieces[count(pieces) - 1]
} else := ""
