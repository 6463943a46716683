"""Importing this module silences the one third-party warning a user cannot act on.

AsyncSSH still names the DSA key classes that cryptography deprecated, so
importing it prints a ``CryptographyDeprecationWarning`` per mention.  The
entry points (the ``clustermgr`` command, which also serves the web app, and
the queue worker) import this module before anything that imports AsyncSSH.
Only that category raised from AsyncSSH's own modules is ignored: every other
warning, and this one from any other module, still shows.
"""

from __future__ import annotations

import warnings

from cryptography.utils import CryptographyDeprecationWarning

#: The modules whose deprecation warnings are silenced: AsyncSSH and its submodules.
SILENCED_MODULES = r"asyncssh(\.|$)"

warnings.filterwarnings("ignore", category=CryptographyDeprecationWarning, module=SILENCED_MODULES)
