"""The cluster files: the files every identity node holds the same, sealed in the inventory."""
