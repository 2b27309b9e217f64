import pytest

from harness.core.errors import HarnessError
from harness.core.lengths import format_length, parse_length, parse_lengths


@pytest.mark.parametrize(
    "text,value", [("1k", 1024), ("4k", 4096), ("128k", 131072), ("1M", 1048576), ("3000", 3000), (" 2K ", 2048)]
)
def test_parse_length(text: str, value: int) -> None:
    assert parse_length(text) == value


@pytest.mark.parametrize("text", ["", "k", "4kb", "-1k", "1.5k", "0", "abc"])
def test_bad_length_names_the_value(text: str) -> None:
    with pytest.raises(HarnessError, match="length"):
        parse_length(text)


def test_parse_lengths_keeps_order_and_drops_repeats() -> None:
    assert parse_lengths("4k,1k,4096,2k") == [4096, 1024, 2048]


def test_format_length_round_trips() -> None:
    for n in (1024, 4096, 131072, 1048576, 3000):
        assert parse_length(format_length(n)) == n
