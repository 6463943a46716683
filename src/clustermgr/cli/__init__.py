"""The command line: parse input, call a service, format the answer."""
