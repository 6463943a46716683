"""The database: engine, declarative base, migrations."""
