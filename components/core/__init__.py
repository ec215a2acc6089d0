"""What every capability shares: the label/annotation/tag vocabulary, cross-capability contracts, kube
helpers, sizing, and the base component. Capabilities meet only here."""
