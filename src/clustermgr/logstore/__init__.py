"""Central logs: the records the collector stores, and the stores that keep and search them.

The embedded store keeps them in the manager's SQLite database beside an FTS5 index;
with a PostgreSQL database they go to day partitions with a ``tsvector`` index.
"""
