"""The command line: parse input, call a service, format the answer."""

import clustermgr.quiet  # noqa: F401 (first: AsyncSSH's import warnings are silenced)
