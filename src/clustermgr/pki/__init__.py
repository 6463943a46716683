"""The cluster's own certificate authority.

One CA per cluster issues every certificate its nodes present to each other
(LDAP replication, stunnel): peers verify names against it, never skip
verification.  Private keys of nodes are made on the nodes; only certificate
signing requests travel to the manager, only certificates travel back.
"""
