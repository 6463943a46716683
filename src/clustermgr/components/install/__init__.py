"""Installing Gluu Server on the identity nodes: one configuration for the whole cluster."""
