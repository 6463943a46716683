"""Signing keys: the identity app's token signing keys, rotated without a failed validation."""
