"""Running commands on servers: Command values, results, connections over SSH."""
