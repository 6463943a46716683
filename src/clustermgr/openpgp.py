"""OpenPGP public keys as a package repository signs with them: read, checked, armored.

A repository's signing key reaches every server (``/etc/apt/keyrings``), so it is a
value from a user like any other: :func:`public_key` accepts an ASCII-armored or a
binary key only if it is one (its first packet a public key, its checksum right) and
returns it in one canonical armored form; :func:`fingerprint` names it as ``gpg`` does.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

BEGIN = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
END = "-----END PGP PUBLIC KEY BLOCK-----"
#: A key with its user ids and signatures; anything bigger is not a signing key.
MAX_BYTES = 64 * 1024
_PUBLIC_KEY_TAG = 6
_CRC24_INIT, _CRC24_POLY = 0xB704CE, 0x1864CFB


class NotAKey(ValueError):
    """What was given is not an OpenPGP public key (the message says why)."""


def _crc24(data: bytes) -> int:
    crc = _CRC24_INIT
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= _CRC24_POLY
    return crc & 0xFFFFFF


def _dearmor(text: str) -> bytes:
    lines = [line.strip() for line in text.strip().splitlines()]
    if len(lines) < 3 or lines[0] != BEGIN or lines[-1] != END:
        raise NotAKey(f"an armored key starts with {BEGIN} and ends with {END}")
    body = lines[1:-1]
    if "" in body:  # armor headers ("Version: ...") end at the first blank line
        body = body[body.index("") + 1 :]
    checksum = body.pop()[1:] if body and body[-1].startswith("=") else None
    try:
        data = base64.b64decode("".join(body), validate=True)
        crc = base64.b64decode(checksum, validate=True) if checksum is not None else None
    except (binascii.Error, ValueError):
        raise NotAKey("the key's armor holds characters base64 does not use") from None
    if crc is not None and crc != _crc24(data).to_bytes(3, "big"):
        raise NotAKey("the key's armor checksum does not match: it was changed or cut")
    return data


def _first_packet(data: bytes) -> tuple[int, bytes]:
    """The first packet's tag and body (old and new packet formats)."""
    if not data or not data[0] & 0x80:
        raise NotAKey("it does not start with an OpenPGP packet")
    if data[0] & 0x40:  # new format: one-octet tag, then the length octets
        tag, first = data[0] & 0x3F, data[1] if len(data) > 1 else 0
        if first < 192:
            start, length = 2, first
        elif first < 224:
            start, length = 3, ((first - 192) << 8) + data[2] + 192
        elif first == 255:
            start, length = 6, int.from_bytes(data[2:6], "big")
        else:
            raise NotAKey("its first packet has a partial length, which keys never use")
    else:  # old format: the tag and the length's size share the first octet
        tag, size = (data[0] >> 2) & 0x0F, data[0] & 0x03
        if size == 3:
            raise NotAKey("its first packet has an indeterminate length")
        octets = (1, 2, 4)[size]
        start, length = 1 + octets, int.from_bytes(data[1 : 1 + octets], "big")
    body = data[start : start + length]
    if len(body) != length:
        raise NotAKey("its first packet is cut short")
    return tag, body


def public_key(given: str | bytes) -> str:
    """``given`` (armored text, or binary bytes) as canonical armored text; NotAKey
    when it is not an OpenPGP public key."""
    if isinstance(given, bytes):
        binary_key = given[:1] and given[0] & 0x80
        data = given if binary_key else _dearmor(given.decode("ascii", "replace"))
    else:
        data = _dearmor(given)
    if len(data) > MAX_BYTES:
        raise NotAKey(f"it is larger than {MAX_BYTES // 1024} KiB")
    tag, _ = _first_packet(data)
    if tag != _PUBLIC_KEY_TAG:
        raise NotAKey("its first packet is not a public key (a private key or a signature?)")
    return armor(data)


def armor(data: bytes) -> str:
    """Binary key bytes as armored text, 64 characters a line, with its checksum."""
    encoded = base64.b64encode(data).decode("ascii")
    lines = [encoded[i : i + 64] for i in range(0, len(encoded), 64)]
    crc = base64.b64encode(_crc24(data).to_bytes(3, "big")).decode("ascii")
    return "\n".join([BEGIN, "", *lines, f"={crc}", END]) + "\n"


def binary(armored: str) -> bytes:
    """The key's bytes, as ``gpg --dearmor`` writes them (an apt keyring file)."""
    return _dearmor(armored)


def fingerprint(armored: str) -> str:
    """The primary key's fingerprint, upper-case hex (version 4 keys, as gpg shows it)."""
    _, body = _first_packet(_dearmor(armored))
    if not body or body[0] != 4:
        raise NotAKey(f"version {body[0] if body else '?'} keys are not supported; use a v4 key")
    return hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body).hexdigest().upper()  # noqa: S324
