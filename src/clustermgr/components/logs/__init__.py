"""Central logging: what each server logs, followed, parsed, stored and searched."""
