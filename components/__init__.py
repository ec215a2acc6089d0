"""factory-floor components: typed config, pure manifest builders and Pulumi component resources."""
