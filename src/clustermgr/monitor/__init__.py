"""Watching the cluster: samples (history), alerts (opened, seen, resolved) and the watcher.

``models`` are the tables, ``store`` the only code that reads and writes them
(the read API every front end uses), ``alerts`` the pure open/refresh/resolve
decision, ``ldap`` one check cycle of LDAP replication, ``watcher`` the loop.
"""
