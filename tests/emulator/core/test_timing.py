import pytest

from emulator.core.timing import PROFILES, profile

TWO_K = 2048 * 2048
FOUR_K = 4096 * 4096


def test_instant_profile_takes_no_time() -> None:
    instant = profile("instant")
    assert instant.queue_seconds() == 0
    assert instant.output_offsets(FOUR_K, 15) == [0.0] * 15


def test_fast_profile_finishes_fifteen_4k_images_well_under_a_second() -> None:
    fast = profile("fast")
    assert 0 < fast.queue_seconds() + fast.output_offsets(FOUR_K, 15)[-1] < 0.6


def test_realistic_profile_matches_provider_durations() -> None:
    realistic = profile("realistic")
    first_2k = realistic.output_offsets(TWO_K, 1)[0]
    first_4k = realistic.output_offsets(FOUR_K, 1)[0]
    assert 1.5 <= first_2k <= 2.5
    assert first_4k > first_2k + 2


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_images_of_a_job_finish_in_order(name: str) -> None:
    offsets = profile(name).output_offsets(TWO_K, 5)
    assert offsets == sorted(offsets)


def test_unknown_profile_is_rejected_with_the_choices() -> None:
    with pytest.raises(ValueError, match="instant, fast, realistic"):
        profile("slow")
