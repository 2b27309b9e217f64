import pytest

from harness.errors import HarnessError
from harness.registry import Registry


def test_lazy_entry_is_imported_on_first_get() -> None:
    reg: Registry[object] = Registry("thing")
    reg.register("join", "os.path:join")
    import os.path

    assert reg.get("join") is os.path.join


def test_collision_raises() -> None:
    reg: Registry[int] = Registry("thing")
    reg.register("a", 1)
    with pytest.raises(ValueError, match="already registered"):
        reg.register("a", 2)


def test_unknown_name_suggests_close_matches() -> None:
    reg: Registry[int] = Registry("task")
    reg.register("niah_single_1", 1)
    with pytest.raises(HarnessError, match="did you mean niah_single_1"):
        reg.get("niah_singel_1")
