"""``python -m clustermgr.lab.gluu.oxauth``: run the stand-in from a checkout."""

from .cli import main

raise SystemExit(main())
