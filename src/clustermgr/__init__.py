"""clustermgr: install and manage a highly available Gluu Server cluster over SSH."""

__version__ = "0.1.0"
