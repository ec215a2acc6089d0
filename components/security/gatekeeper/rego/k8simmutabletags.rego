# Images are pinned: by digest, or by a tag matching one of the tag patterns (RE2, matched against the whole
# tag) of releases the registry keeps immutable. Moving tags — latest, main, stable, a bare major '1' — name
# whatever was pushed last, so what was reviewed is not what runs. An image without a tag is latest.
# `exemptImages` (exact, or a prefix ending in '*') are not judged. Images can change, so UPDATEs are judged —
# except, on an UPDATE of a Pod, a container whose image the update leaves as it was: refusing that would only
# block the metadata changes a Pod admitted before needs (finalizers, labels) for its controller and deletion,
# and make nothing safer; an image changed or added (`kubectl debug`) is judged. The audit reports every image.
package k8simmutabletags

import data.lib.factory.workloads
import rego.v1

violation contains {"msg": msg} if {
	some entry in judged
	image := entry.container.image
	not judged_elsewhere(image)
	tag := image_tag(image)
	tag == ""
	msg := sprintf("%v <%v> uses image <%v> without a tag or digest (it resolves to latest)", [entry.field, entry.container.name, image])
}

violation contains {"msg": msg} if {
	some entry in judged
	image := entry.container.image
	not judged_elsewhere(image)
	tag := image_tag(image)
	tag != ""
	not immutable(tag)
	msg := sprintf("%v <%v> uses image <%v>: tag <%v> can move; pin a digest (@sha256:...) or a release tag matching one of %v", [entry.field, entry.container.name, image, tag, input.parameters.tagPatterns])
}

judged contains entry if {
	some entry in workloads.containers
	not unchanged_by_pod_update(entry)
}

unchanged_by_pod_update(entry) if {
	workloads.immutable_pod_update
	some before in object.get(input.review, ["oldObject", "spec", entry.field], [])
	before.name == entry.container.name
	before.image == entry.container.image
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
