"""Use cases shared by every front end (CLI now; web app and API later)."""
