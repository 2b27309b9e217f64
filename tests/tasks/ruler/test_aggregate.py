from harness.tasks.ruler.aggregate import effective_length, ruler_summary, weighted_average


def test_weighted_averages_by_length_rank() -> None:
    scores = {4096: 90.0, 8192: 80.0, 16384: 60.0}
    assert weighted_average(scores, increasing=True) == (1 * 90 + 2 * 80 + 3 * 60) / 6
    assert weighted_average(scores, increasing=False) == (3 * 90 + 2 * 80 + 1 * 60) / 6


def test_effective_length_is_the_last_length_before_the_first_drop() -> None:
    assert effective_length({4096: 95.0, 8192: 88.0, 16384: 85.6, 32768: 90.0}) == 8192
    assert effective_length({4096: 80.0, 8192: 90.0}) is None
    assert effective_length({4096: 99.0, 8192: 99.0}) == 8192


def test_summary_fields() -> None:
    summary = ruler_summary({1024: 100.0, 2048: 50.0})
    assert summary["avg"] == 75.0 and summary["effective_length"] == 1024
    assert summary["wavg_inc"] == round((100 + 2 * 50) / 3, 4)
