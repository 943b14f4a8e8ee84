import pytest

from emulator.core.http import parse_json


def test_integers_beyond_64_bits_parse_as_numbers_beyond_every_limit() -> None:
    assert parse_json(b'[{"seed": 99999999999999999999}]')[0]["seed"] >= 2**64


@pytest.mark.parametrize("raw", [b"", b"{", b"[1,]", b"\xff\xfe", b"[" * 100_000, b"[NaN]", b"[-Infinity]"])
def test_malformed_json_raises_value_error(raw: bytes) -> None:
    with pytest.raises(ValueError):
        parse_json(raw)
