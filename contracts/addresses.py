"""Internal targets, however they are written: what providers refuse as callback, webhook or fetch targets.

The standard `ipaddress` rules decide (anything not globally routable is internal); a host is read the way
C's `inet_aton` and browsers read it, so `127.1`, `0x7f000001`, `017700000001` and `2130706433` are all
loopback. Names are never resolved: only names that are internal by definition count.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

INTERNAL_NAMES = frozenset(
    {"localhost", "localhost.localdomain", "metadata", "metadata.google.internal", "instance-data"}
)
INTERNAL_SUFFIXES = (".localhost", ".internal", ".local", ".localdomain", ".home.arpa")


def host_of(url: str) -> str | None:
    """The host of a URL, lower-cased, without brackets or a trailing dot; None when there is none."""
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return host.rstrip(".").lower() if host else None


def address_of(host: str) -> Address | None:
    """The address a host spells, in any of the forms clients accept; None for a name."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if "%" in name:
        name = name.split("%", 1)[0]  # a zone id does not change which address it is
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        pass
    return _inet_aton(name)


def is_internal_address(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or _nat64(address)
        if embedded is not None:
            return is_internal_address(embedded)
    return not address.is_global or address.is_multicast


def is_internal_host(host: str) -> bool:
    """Loopback, private, link-local, metadata, reserved or otherwise non-public, by address or by name."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if not name:
        return True
    if name in INTERNAL_NAMES or name.endswith(INTERNAL_SUFFIXES):
        return True
    address = address_of(name)
    return address is not None and is_internal_address(address)


def is_loopback_host(host: str) -> bool:
    """Whether a host is this machine: `localhost`, `*.localhost`, or a loopback address in any spelling."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    address = address_of(name)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address is not None and address.is_loopback


def _inet_aton(name: str) -> ipaddress.IPv4Address | None:
    parts = name.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers = []
    for part in parts:
        value = _number(part)
        if value is None:
            return None
        numbers.append(value)
    *head, last = numbers
    if any(value > 255 for value in head) or last >= 256 ** (4 - len(head)):
        return None
    packed = 0
    for value in head:
        packed = packed << 8 | value
    return ipaddress.IPv4Address(packed << 8 * (4 - len(head)) | last)


def _number(part: str) -> int | None:
    try:
        if part[:2] in ("0x", "0X"):
            return int(part[2:], 16) if part[2:] else 0
        if len(part) > 1 and part.startswith("0"):
            return int(part[1:], 8)
        return int(part, 10) if part.isdigit() else None
    except ValueError:
        return None


NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _nat64(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None
