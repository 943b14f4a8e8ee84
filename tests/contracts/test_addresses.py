"""Internal targets are recognised however they are spelled; public ones are not mistaken for internal."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.addresses import address_of, host_of, is_internal_host, is_loopback_host

INTERNAL = [
    "127.0.0.1", "127.1", "127.0.1", "0x7f000001", "0x7f.1", "017700000001", "0177.0.0.1", "2130706433",
    "[::1]", "::1", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "localhost", "LOCALHOST.", "api.localhost",
    "metadata.google.internal", "169.254.169.254", "0xa9fea9fe", "10.0.0.1", "10.1", "192.168.1.1",
    "172.16.0.1", "100.64.0.1", "0.0.0.0", "0", "[fe80::1]", "[fc00::1]", "[64:ff9b::a00:1]", "224.0.0.1",
    "printer.local", "[2002:7f00:1::]",
]  # fmt: skip
PUBLIC = ["example.com", "8.8.8.8", "134744072", "0x08080808", "[2606:4700:4700::1111]", "api.evolink.ai", "1.1"]


@pytest.mark.parametrize("host", INTERNAL)
def test_internal_spellings_are_internal(host: str) -> None:
    assert is_internal_host(host)


@pytest.mark.parametrize("host", PUBLIC)
def test_public_hosts_are_not_internal(host: str) -> None:
    assert not is_internal_host(host)


@pytest.mark.parametrize(
    "host", ["127.1", "0x7f000001", "2130706433", "[::1]", "[::ffff:127.0.0.1]", "localhost", "a.localhost"]
)
def test_loopback_spellings_are_loopback(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["10.0.0.1", "169.254.169.254", "example.com", "8.8.8.8"])
def test_other_hosts_are_not_loopback(host: str) -> None:
    assert not is_loopback_host(host)


def test_urls_give_their_host() -> None:
    assert host_of("https://[::ffff:127.0.0.1]:8443/hook") == "::ffff:127.0.0.1"
    assert host_of("https://Metadata.Google.Internal./x") == "metadata.google.internal"
    assert host_of("not a url") is None
    assert host_of("http://[::1") is None


def _spellings(address: ipaddress.IPv4Address) -> st.SearchStrategy[str]:
    value = int(address)
    octets = [value >> shift & 255 for shift in (24, 16, 8, 0)]
    return st.sampled_from(
        [
            str(address),
            str(value),
            hex(value),
            "0" + oct(value)[2:],
            ".".join(hex(octet) for octet in octets),
            ".".join("0" + oct(octet)[2:] for octet in octets),
            f"{octets[0]}.{value & 0xFFFFFF}",
            f"{octets[0]}.{octets[1]}.{value & 0xFFFF}",
            f"[::ffff:{address}]",
        ]
    )


loopback = st.integers(0x7F000000, 0x7FFFFFFF).map(ipaddress.IPv4Address)
private = st.sampled_from(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"]).flatmap(
    lambda cidr: st.integers(int(ipaddress.ip_network(cidr)[0]), int(ipaddress.ip_network(cidr)[-1])).map(
        ipaddress.IPv4Address
    )
)
public = st.sampled_from(["8.8.0.0/16", "1.1.1.0/24", "93.184.0.0/16", "151.101.0.0/16"]).flatmap(
    lambda cidr: st.integers(int(ipaddress.ip_network(cidr)[0]), int(ipaddress.ip_network(cidr)[-1])).map(
        ipaddress.IPv4Address
    )
)


@given(loopback.flatmap(_spellings))
def test_every_spelling_of_a_loopback_address_is_loopback_and_internal(host: str) -> None:
    assert is_loopback_host(host) and is_internal_host(host)


@given(private.flatmap(_spellings))
def test_every_spelling_of_a_private_address_is_internal(host: str) -> None:
    assert is_internal_host(host) and not is_loopback_host(host)


@given(public.flatmap(lambda address: st.tuples(st.just(address), _spellings(address))))
def test_every_spelling_of_a_public_address_reads_as_that_address(pair: tuple[ipaddress.IPv4Address, str]) -> None:
    address, host = pair
    read = address_of(host)
    if isinstance(read, ipaddress.IPv6Address):
        read = read.ipv4_mapped
    assert read == address and not is_internal_host(host)


@given(st.text(max_size=40))
def test_no_host_text_breaks_the_classifier(host: str) -> None:
    assert isinstance(is_internal_host(host), bool) and isinstance(is_loopback_host(host), bool)
