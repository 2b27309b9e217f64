import pytest

from harness.core.errors import HarnessError
from harness.tasks.budget import fit_to_budget


@pytest.mark.parametrize("overhead,per_unit,budget", [(50, 7, 1000), (3, 1, 10), (100, 13, 131072), (10, 2, 11)])
def test_finds_the_largest_fitting_size(overhead: int, per_unit: int, budget: int) -> None:
    calls: list[int] = []

    def build(n: int) -> int:
        calls.append(n)
        return n

    fitted = fit_to_budget(build, lambda n: overhead + per_unit * n, budget)
    assert overhead + per_unit * fitted.units <= budget < overhead + per_unit * (fitted.units + 1)
    assert fitted.tokens == overhead + per_unit * fitted.units
    assert len(calls) < 20  # interpolation, not a scan


def test_irregular_growth_still_terminates_at_the_boundary() -> None:
    cost = lambda n: 10 + n * 3 + (n % 7) * 5 + (n // 50) ** 2  # noqa: E731  monotone enough, bumpy
    fitted = fit_to_budget(lambda n: n, cost, 5000)
    assert cost(fitted.units) <= 5000
    assert all(cost(n) > 5000 for n in range(fitted.units + 1, fitted.units + 10))


def test_budget_below_the_bare_prompt_raises_with_numbers() -> None:
    with pytest.raises(HarnessError, match="budget of 20 tokens is too small; the prompt alone needs 30"):
        fit_to_budget(lambda n: n, lambda n: 30 + n, 20, what="x")
