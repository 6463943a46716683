"""The directory renderers: their text, and what slapd 2.5's own tools say about it."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from clustermgr.lab.gluu import directory, oxauth
from gluu_lab import ROOT_PASSWORD, Slapd, free_port

REPLICATOR = "cn=replicator,o=gluu"


def render_config(home: Path, extra_schema: str | None = None, **kwargs: str) -> str:
    return directory.slapd_config_ldif(
        root_pw_hash=directory.ssha_password(ROOT_PASSWORD, b"12345678"),
        db_dir=str(home / "db"),
        run_dir=str(home / "run"),
        extra_schema=directory.gluu_schema_ldif() if extra_schema is None else extra_schema,
        **kwargs,
    )


def load_config(home: Path, ldif: str) -> Path:
    """slapadd -n0 the config into ``home``/slapd.d and return that directory."""
    for sub in ("slapd.d", "db", "run"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    (home / "config.ldif").write_text(ldif)
    slapadd = ["slapadd", "-n0", "-F", str(home / "slapd.d"), "-l", str(home / "config.ldif")]
    done = subprocess.run(slapadd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return home / "slapd.d"


def test_config_includes_the_distribution_schemas_and_inlines_gluus(tmp_path: Path) -> None:
    ldif = render_config(tmp_path)
    for name in directory.BASE_SCHEMAS:
        assert f"include: file:///etc/ldap/schema/{name}.ldif\n" in ldif
    assert "dn: cn=gluu,cn=schema,cn=config" in ldif
    assert ldif.index("cosine.ldif") < ldif.index("cn=gluu,cn=schema")
    assert ldif.index("olcModuleLoad: back_mdb") < ldif.index("dn: olcDatabase={1}mdb")


def test_config_sets_the_database_as_gluu_expects(tmp_path: Path) -> None:
    entries = {e.dn: e for e in oxauth.parse_ldif(render_config(tmp_path))}
    mdb = entries["olcDatabase={1}mdb,cn=config"]
    assert mdb.first("olcSuffix") == "o=gluu"
    assert mdb.first("olcRootDN") == "cn=directory manager,o=gluu"
    assert mdb.first("olcDbDirectory") == str(tmp_path / "db")
    assert mdb.first("olcDbMaxSize") == str(1024**3)
    assert set(mdb.attrs["olcdbindex"]) >= {"uuid eq", "inum eq", "entryCSN eq", "entryUUID eq"}
    password_acl = mdb.attrs["olcaccess"][0]
    assert password_acl.startswith("{0}to attrs=userPassword")
    assert "by anonymous auth by * none" in password_acl
    assert "olclimits" not in mdb.attrs
    config_db = entries["olcDatabase={0}config,cn=config"]
    assert directory.PEERCRED_ROOT in (config_db.first("olcAccess") or "")


def test_a_replicator_may_read_passwords_without_size_limit(tmp_path: Path) -> None:
    entries = {
        e.dn: e for e in oxauth.parse_ldif(render_config(tmp_path, replicator_dn=REPLICATOR))
    }
    mdb = entries["olcDatabase={1}mdb,cn=config"]
    assert f'by dn.exact="{REPLICATOR}" read' in mdb.attrs["olcaccess"][0]
    assert mdb.first("olcLimits") == f'{{0}}dn.exact="{REPLICATOR}" time=unlimited size=unlimited'


@pytest.mark.parametrize("replicator", [None, REPLICATOR])
def test_slaptest_accepts_the_generated_config(tmp_path: Path, replicator: str | None) -> None:
    extra = {"replicator_dn": replicator} if replicator else {}
    config_dir = load_config(tmp_path, render_config(tmp_path, **extra))
    dry_run = subprocess.run(["slaptest", "-u", "-F", str(config_dir)], capture_output=True)
    assert dry_run.returncode == 0, dry_run.stderr
    # slaptest without -u opens the database, which only exists once data is loaded.
    data = tmp_path / "data.ldif"
    data.write_text(
        directory.base_data_ldif(
            admin_password_hash=directory.ssha_password("x"),
            cache_config=directory.native_cache_config(),
        )
    )
    slapadd = ["slapadd", "-n1", "-F", str(config_dir), "-l", str(data)]
    subprocess.run(slapadd, check=True, capture_output=True)
    done = subprocess.run(["slaptest", "-F", str(config_dir)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    schemas = sorted(p.name for p in (config_dir / "cn=config" / "cn=schema").iterdir())
    assert schemas == [
        "cn={0}core.ldif",
        "cn={1}cosine.ldif",
        "cn={2}nis.ldif",
        "cn={3}inetorgperson.ldif",
        "cn={4}gluu.ldif",
    ]


def test_the_gluu_schema_loads_into_a_running_slapd_with_ldapadd(tmp_path: Path) -> None:
    """The same file works online: ldapadd over ldapi as root (peercred manage on cn=config).

    The config is rendered without the Gluu schema, so its indexes on Gluu attributes go too.
    """
    without = render_config(tmp_path, extra_schema="")
    without = "".join(
        line
        for line in without.splitlines(keepends=True)
        if line not in ("olcDbIndex: inum eq\n", "olcDbIndex: uuid eq\n")
    )
    load_config(tmp_path, without)
    slapd = Slapd(tmp_path, free_port())
    slapd.start()
    try:
        schema = tmp_path / "gluu.ldif"
        schema.write_text(directory.gluu_schema_ldif())
        add = ["ldapadd", "-Q", "-Y", "EXTERNAL", "-H", slapd.ldapi, "-f", str(schema)]
        done = subprocess.run(add, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        search = [
            "ldapsearch",
            "-Q",
            "-LLL",
            "-Y",
            "EXTERNAL",
            "-H",
            slapd.ldapi,
            "-b",
            "cn=schema,cn=config",
            "-s",
            "one",
            "(cn=*gluu)",
            "olcObjectClasses",
        ]
        found = subprocess.run(search, capture_output=True, text=True, check=True).stdout
        [entry] = oxauth.parse_ldif(found)
        assert entry.dn == "cn={4}gluu,cn=schema,cn=config"
        names = " ".join(entry.attrs["olcobjectclasses"])
        for name in ("gluuOrganization", "gluuConfiguration", "gluuPerson", "'cache'"):
            assert name in names
    finally:
        slapd.stop()


def test_base_data_holds_gluus_skeleton() -> None:
    config = directory.native_cache_config()
    ldif = directory.base_data_ldif(admin_password_hash="{SSHA}abc", cache_config=config)
    entries = {e.dn: e for e in oxauth.parse_ldif(ldif)}
    admin_dn = f"inum={directory.ADMIN_INUM},ou=people,o=gluu"
    assert list(entries) == [
        "o=gluu",
        "ou=configuration,o=gluu",
        "ou=people,o=gluu",
        "ou=groups,o=gluu",
        "ou=cache,o=gluu",
        admin_dn,
    ]
    assert entries["o=gluu"].attrs["objectclass"] == ["top", "gluuOrganization"]
    configuration = entries["ou=configuration,o=gluu"]
    assert json.loads(configuration.first("oxCacheConfiguration") or "") == config
    assert configuration.first("oxRevision") == "1"
    admin = entries[admin_dn]
    assert admin.attrs["objectclass"] == ["top", "inetOrgPerson", "gluuPerson"]
    assert admin.first("uid") == "admin"
    assert admin.first("inum") == directory.ADMIN_INUM
    assert admin.first("userPassword") == "{SSHA}abc"


def test_base_data_needs_an_organization_suffix() -> None:
    with pytest.raises(ValueError, match="must start with o="):
        directory.base_data_ldif(
            suffix="dc=example,dc=org", admin_password_hash="x", cache_config={}
        )


def test_ssha_is_salted_sha1_as_slapd_verifies_it() -> None:
    hashed = directory.ssha_password("secret", b"saltsalt")
    raw = base64.b64decode(hashed.removeprefix("{SSHA}"))
    assert raw == hashlib.sha1(b"secretsaltsalt").digest() + b"saltsalt"
    assert directory.ssha_password("secret") != directory.ssha_password("secret")


def test_cache_configs_have_gluu_4s_shape() -> None:
    native = directory.native_cache_config()
    assert native["cacheProviderType"] == "NATIVE_PERSISTENCE"
    assert set(native) == {
        "cacheProviderType",
        "memcachedConfiguration",
        "inMemoryConfiguration",
        "redisConfiguration",
        "nativePersistenceConfiguration",
    }
    assert native["nativePersistenceConfiguration"]["defaultPutExpiration"] == 60
    assert native["redisConfiguration"]["password"] is None

    redis = directory.redis_cache_config("localhost:7000", "s3cret-pw")
    assert redis["cacheProviderType"] == "REDIS"
    section = redis["redisConfiguration"]
    assert section["redisProviderType"] == "STANDALONE"
    assert section["servers"] == "localhost:7000"
    assert section["useSSL"] is False
    assert section["password"] != "s3cret-pw"
    assert oxauth.decode_secret(section["password"]) == "s3cret-pw"


def test_cache_change_ldif_replaces_configuration_and_revision() -> None:
    ldif = directory.cache_config_change_ldif(
        cache_config={"cacheProviderType": "REDIS"}, revision=7
    )
    assert ldif.splitlines() == [
        "dn: ou=configuration,o=gluu",
        "changetype: modify",
        "replace: oxCacheConfiguration",
        'oxCacheConfiguration: {"cacheProviderType": "REDIS"}',
        "-",
        "replace: oxRevision",
        "oxRevision: 7",
        "-",
    ]


def test_ox_ldap_properties_is_what_the_app_reads() -> None:
    text = directory.ox_ldap_properties(
        servers=["node1.lab:1636", "node2.lab:1636"],
        bind_dn="cn=directory manager,o=gluu",
        bind_password="pa:ss=word",
        use_ssl=True,
        trust_store_file="/etc/certs/ca.pem",
    )
    assert "pa:ss=word" not in text
    props = oxauth.parse_properties(text)
    assert props["bindDN"] == "cn=directory manager,o=gluu"
    assert props["maxconnections"] == "10"
    assert props["connection.max-wait-time-millis"] == "20000"
    settings = oxauth.LdapSettings.from_properties(props)
    assert settings.uris == ("ldaps://node1.lab:1636", "ldaps://node2.lab:1636")
    assert settings.bind_password == "pa:ss=word"
    assert settings.ca_file == "/etc/certs/ca.pem"


def test_paths_are_reexported_from_the_one_place() -> None:
    assert directory.OX_LDAP_PROPERTIES == "/etc/gluu/conf/ox-ldap.properties"
    assert directory.OXAUTH_LOG_DIR == "/opt/gluu/jetty/oxauth/logs"
    assert directory.OXAUTH_INIT_SCRIPT == "/etc/init.d/oxauth"
    assert directory.OXAUTH_LOG is oxauth.OXAUTH_LOG
