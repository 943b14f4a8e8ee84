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
