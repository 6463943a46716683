"""setup.properties for the gluu-server package's tests: passwords with quotes, blanks,
backslashes and shell characters, as a user may choose them."""

from __future__ import annotations

ISSUER = "login.lab.test"
LDAP_PASSWORD = "Dir 'mgr' \"pw\" \\ back\\slash = #1 !"
ADMIN_PASSWORD = ' adm:in "x" \\t\\\\ $HOME `id` '
PROPERTIES = {
    "hostname": ISSUER,
    "orgName": "Example Org",
    "city": "Austin",
    "state": "TX",
    "countryCode": "US",
    "admin_email": "admin@example.org",
    "ldapPass": LDAP_PASSWORD,
    "oxtrust_admin_password": ADMIN_PASSWORD,
    "installLdap": "True",
    "installOxAuth": "True",
    "installHttpd": "True",
}
