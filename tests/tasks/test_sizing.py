"""`UnitSequence`: prefix sums of unit costs, extended only as far as a search reaches."""

from harness.core.prompt import TokenCosts
from harness.tasks.sizing import UnitSequence


def test_costs_match_a_full_sum_and_cycle(chat_tokenizer) -> None:
    costs = TokenCosts(chat_tokenizer)
    units = [f"word{i} and more" for i in range(700)]
    sequence = UnitSequence(units, "\n", costs)
    per_unit = costs.of(["\n" + u for u in units])
    for n in (0, 1, 5, 255, 256, 257, 699, 700, 701, 1500, 2100):
        rounds, rest = divmod(n, len(units))
        assert sequence.cost(n) == rounds * sum(per_unit) + sum(per_unit[:rest]), n
    assert sequence.take(702)[-2:] == units[:2] and sequence.unit(701) == units[1]


def test_only_the_reached_units_are_tokenised(chat_tokenizer) -> None:
    costs = TokenCosts(chat_tokenizer)
    sequence = UnitSequence([f"unit {i}" for i in range(100_000)], " ", costs)
    sequence.cost(10)
    assert len(costs._cache) == UnitSequence.MIN_CHUNK
    sequence.cost(1000)
    assert UnitSequence.MIN_CHUNK < len(costs._cache) <= 1000 * 2
    assert len(sequence.prefix) == 100_001 and len(costs._cache) == 100_000


def test_generated_units_are_written_only_as_far_as_used(chat_tokenizer) -> None:
    costs = TokenCosts(chat_tokenizer)
    asked: list[int] = []

    def more(k: int) -> list[str]:
        start = sum(asked)
        asked.append(k)
        return [f"line {i}" for i in range(start, start + k)]

    sequence = UnitSequence.generated(5000, more, "\n", costs)
    assert sequence.unit(3) == "line 3" and sequence.take(2) == ["line 0", "line 1"]
    assert sequence.cost(300) == sum(costs.of([f"\nline {i}" for i in range(300)]))
    assert sum(asked) < 5000
    assert sequence.take(5002)[-2:] == ["line 0", "line 1"] and sum(asked) == 5000
    assert sequence.units == [f"line {i}" for i in range(5000)]
