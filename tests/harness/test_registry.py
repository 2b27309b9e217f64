import pytest

from harness.core.errors import HarnessError
from harness.core.registry import Registry


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
    (["synth", "run", "wildlng", "--config", "sweeps/tiny-demo.yaml", "--out", "{tmp}/out"], "did you mean wildlong?"),
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

    monkeypatch.chdir(Path(__file__).resolve().parents[2])  # the repository: sweeps/ and leaderboards/ are here
    code, _, err = run_cli([a.replace("{tmp}", str(tmp_path)) for a in argv], capfd)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    assert suggestion in lines[0], lines[0]
