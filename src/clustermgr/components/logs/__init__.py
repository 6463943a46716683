"""Central logging: a follower on every server, its records searched in the manager."""
