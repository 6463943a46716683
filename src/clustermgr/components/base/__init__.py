"""Base preparation of every member: required packages and /etc/hosts entries."""
