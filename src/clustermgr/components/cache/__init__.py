"""The cache chain: Redis on each identity node, reached through stunnel and twemproxy.

``model`` holds the names, paths and the desired layout, ``render`` the pure
configuration files, ``oxconfig`` the script that points the identity servers
at the cache, ``plan`` the planner, ``stats`` the parsers of what status reads.
"""
