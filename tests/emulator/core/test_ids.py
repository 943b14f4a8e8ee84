import uuid

from emulator.core.ids import IdSource


def test_same_seed_same_sequence_and_reset_replays_it() -> None:
    first, second = IdSource(42), IdSource(42)
    run = [first.uuid4(), first.token(8), first.uint32()]
    assert run == [second.uuid4(), second.token(8), second.uint32()]
    first.reset()
    assert [first.uuid4(), first.token(8), first.uint32()] == run


def test_uuids_are_version_4() -> None:
    source = IdSource(1)
    assert all(uuid.UUID(source.uuid4()).version == 4 for _ in range(100))


def test_different_seeds_differ() -> None:
    assert IdSource(1).uuid4() != IdSource(2).uuid4()


def test_tokens_use_the_requested_alphabet() -> None:
    assert set(IdSource(3).token(200, "ab")) == {"a", "b"}


def test_uuid_text_is_what_the_uuid_module_writes() -> None:
    from emulator.core.ids import uuid4_number, uuid4_text

    source = IdSource(7)
    for number in [0, 2**128 - 1, 2**128, 2**130 + 5, *(source.uint32() << 96 | source.uint32() for _ in range(500))]:
        assert uuid4_text(number) == str(uuid.UUID(int=number % 2**128, version=4))
        assert uuid4_number(number) == uuid.UUID(int=number % 2**128, version=4).int
    assert IdSource(9).uuid4_int() == uuid.UUID(IdSource(9).uuid4()).int
