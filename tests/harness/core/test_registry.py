import pytest

from harness.core.errors import HarnessError
from harness.core.registry import Ref, Registry, ref


def test_lazy_entry_is_imported_on_first_get() -> None:
    reg: Registry[object] = Registry("thing")
    reg.register("join", "os.path:join")
    import os.path

    assert reg.get("join") is os.path.join


def test_collision_raises() -> None:
    reg: Registry[int] = Registry("thing")
    reg.register("a", 1)
    with pytest.raises(HarnessError, match=r"thing 'a' is already registered \(1\); 2 cannot take the same name"):
        reg.register("a", 2)
    reg.register("a", 1)  # the same entry again (a package installed twice) is no clash
    reg.register("b", "os.path:join")
    reg.register("b", "os.path:join")
    with pytest.raises(HarnessError, match=r"'b' is already registered \(os.path:join\); os.path:split cannot"):
        reg.register("b", "os.path:split")


def test_a_lazy_entry_is_not_imported_until_asked_for(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    (tmp_path / "h5_lazy_probe.py").write_text("def make(name, options, scale=1):\n    return (name, options, scale)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    reg: Registry[object] = Registry("thing")
    reg.register("plain", "h5_lazy_probe:make")
    reg.register("bound", ref("h5_lazy_probe:make", "x", scale=3))
    assert "h5_lazy_probe" not in sys.modules and reg.is_lazy("bound") and str(reg.entry("bound")) == "h5_lazy_probe:make('x', scale=3)"
    assert reg.get("bound")("opts") == ("x", "opts", 3)  # type: ignore[operator]
    assert "h5_lazy_probe" in sys.modules and not reg.is_lazy("bound")
    assert reg.get("plain") is sys.modules["h5_lazy_probe"].make
    assert Ref("h5_lazy_probe:make")("y", None) == ("y", None, 1)  # a Ref stands where a function is expected
    monkeypatch.delitem(sys.modules, "h5_lazy_probe")


def test_declaration_order_and_sorted_names() -> None:
    reg: Registry[int] = Registry("thing")
    for name, value in (("b", 1), ("a", 2), ("c", 3)):
        reg.register(name, value)
    assert list(reg) == ["b", "a", "c"] and reg.items() == [("b", 1), ("a", 2), ("c", 3)] and reg.values() == [1, 2, 3]
    assert reg.names() == ["a", "b", "c"] and len(reg) == 3 and reg["a"] == 2 and "z" not in reg


@pytest.mark.parametrize("target", ["no_colon", ":attr", "module:", ""])
def test_a_malformed_lazy_entry_is_refused_when_declared(target: str) -> None:
    with pytest.raises(HarnessError, match="is not of the form 'package.module:attr'"):
        Registry[object]("thing").register("x", target)


def test_a_lazy_entry_that_fails_to_import_raises_the_import_error() -> None:
    reg: Registry[object] = Registry("thing")
    reg.register("gone", "lc_harness_no_such_module:thing")
    with pytest.raises(ModuleNotFoundError):
        reg.get("gone")


def test_unknown_name_suggests_close_matches() -> None:
    reg: Registry[int] = Registry("task")
    reg.register("niah_single_1", 1)
    with pytest.raises(HarnessError, match="did you mean niah_single_1"):
        reg.get("niah_singel_1")


def test_unknown_name_gives_near_misses_and_the_known_names() -> None:
    from harness.core.registry import did_you_mean, unknown_field, unknown_name

    assert str(unknown_name("row", "contrl", ["control", "yarn"])) == "unknown row 'contrl'; did you mean control? (known: control, yarn)"
    assert str(unknown_name("row", "zzz", ["control"])) == "unknown row 'zzz' (known: control)"
    assert str(unknown_name("row", "x", [])) == "unknown row 'x' (known: none)"
    assert "... (25 in all)" in str(unknown_name("task", "x", [f"t{i:02}" for i in range(25)]))
    many = [*(f"t{i:02}" for i in range(25)), "niah_single_1"]
    assert str(unknown_name("task", "niah_singel_1", many)) == "unknown task 'niah_singel_1'; did you mean niah_single_1?"
    assert did_you_mean("Control", ["control"]) == "did you mean control?"  # case alone
    assert did_you_mean("vlm", ["hf", "vllm"], template="{}:") == "did you mean vllm:?"
    assert str(unknown_field("f.yaml", "colums", ["name", "columns"])) == (
        "f.yaml: unknown field 'colums'; did you mean columns? (fields: columns, name)")


# Near-miss names through the real command line: each is refused with exit 2, one line, and the right name suggested.
NEAR_MISSES = [
    (["eval", "--model", "vlm:x", "--tasks", "niah_single_1"], "did you mean vllm:?"),
    (["eval", "--model", "tiny-random", "--tasks", "niah_singel_1"], "did you mean niah_single_1"),
    (["eval", "--model", "tiny-random", "--tasks", "rular"], "did you mean ruler?"),
    (["eval", "--model", "tiny-random", "--tasks", "niah_single_1", "--model-args", "dtyp=float32"], "did you mean dtype?"),
    (["models", "build", "tiny-randm"], "did you mean tiny-random?"),
    (["leaderboard", "build", "tiny-dem"], "did you mean tiny-demo?"),
    (["sweep", "sweeps/tiny-dem.yaml"], "did you mean sweeps/tiny-demo.yaml?"),
    (["sweep", "sweeps/tiny-demo.yaml", "--only", "contrl"], "did you mean control?"),
    (["synth", "run", "wildlng", "--config", "sweeps/tiny-demo.yaml", "--out", "{tmp}/out"], "did you mean wildlong, wildlong_paths?"),
    (["train", "--model", "tiny-random", "--data", "x.jsonl", "--stages", "256:1", "--output", "{tmp}/o", "--lora", "rr=4"],
     "did you mean r?"),
    (["train", "--model", "tiny-random", "--data", "x.jsonl", "--stages", "256:1", "--output", "{tmp}/o", "--report-to", "tensorbord"],
     "did you mean tensorboard?"),
]


@pytest.mark.parametrize("argv, suggestion", NEAR_MISSES, ids=[" ".join(a[:2]) + f"-{i}" for i, (a, _) in enumerate(NEAR_MISSES)])
def test_near_miss_names_get_did_you_mean(argv: list[str], suggestion: str, tmp_path, capfd: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    from tests.clirun import run_cli

    monkeypatch.chdir(Path(__file__).resolve().parents[3])  # the repository: sweeps/ and leaderboards/ are here
    code, _, err = run_cli([a.replace("{tmp}", str(tmp_path)) for a in argv], capfd)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    assert suggestion in lines[0], lines[0]
