"""The inventory: clusters, their servers, credentials and pinned host keys."""
