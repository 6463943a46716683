"""Plans (steps as values) and the executor, the only code that applies them."""
