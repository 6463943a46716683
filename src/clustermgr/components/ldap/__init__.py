"""OpenLDAP multi-provider (delta-syncrepl) replication across identity nodes.

``model`` holds the names and settings, ``render`` the pure cn=config LDIF,
``hostcheck`` the read-back check that runs on a node, ``plan`` the planner.
"""
