"""Gluu look-alike parts of the lab: the directory's schema and data, and an oxAuth stand-in."""
