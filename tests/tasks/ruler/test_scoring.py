from harness.tasks.ruler.scoring import postprocess, string_match_all, string_match_part


def test_string_match_all_is_the_fraction_found_case_insensitive() -> None:
    assert string_match_all("The numbers are 123 and ABC-def", ["123", "abc-DEF", "999", "777"]) == 50.0
    assert string_match_all("", ["1"]) == 0.0
    assert string_match_all("1234567", ["1234567"]) == 100.0


def test_string_match_part_is_any_found() -> None:
    assert string_match_part("Paris is the answer", ["London", "paris"]) == 100.0
    assert string_match_part("Rome", ["London", "Paris"]) == 0.0


def test_postprocess_strips_and_replaces_control_characters() -> None:
    assert postprocess("  12\x0034\t56 \n") == "12\n34\n56"
