"""The audit trail: who did what, when, with what result."""
