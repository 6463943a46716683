"""The ``gluu-server`` package's setup program: ``setup.properties`` in, a Gluu node out.

Runs on the node as ``/opt/gluu-server/bin/setup /etc/gluu/conf/setup.properties``
(a zipapp built by :mod:`clustermgr.lab.gluu.package`), with Debian's python3 and
nothing else: standard library only, importing only within ``clustermgr.lab.gluu``.

- :mod:`.properties` reads, writes and checks the properties;
- :mod:`.program` makes the node: slapd with ``o=gluu``, ``ox-ldap.properties``,
  the web certificate, the identity app, nginx on 443, every service enabled;
- :mod:`.cli` the command line: exit 2 on bad properties, 1 on a failed step.
"""
