"""Names that become directories are checked first: every place a config or flag value becomes a path
component refuses `..`, separators, absolute paths, hidden, empty, control-character and over-long names
with exit 2 and one line naming the file and field, and creates nothing outside its directory."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from harness.core.errors import HarnessError
from harness.core.pathnames import MAX_LENGTH, safe_component, slugify
from tests.clirun import run_cli

BAD = {
    "empty": "",
    "dot": ".",
    "dotdot": "..",
    "climb": "../escaped",
    "climb far": "../../../../escaped",
    "inner climb": "a/../../b",
    "absolute": "/tmp/escaped",
    "separator": "a/b",
    "backslash": "a\\b",
    "windows climb": "..\\..\\escaped",
    "drive": "C:\\escaped",
    "hidden": ".escaped",
    "nul": "a\x00b",
    "newline": "a\nb",
    "escape char": "a\x1b[31mb",
    "space": "my sweep",
    "dollar": "$x$",
    "too long": "x" * (MAX_LENGTH + 1),
}
GOOD = ["tiny-demo", "plumbing", "run_1.2", "A", "a..b", "x" * MAX_LENGTH, "2024"]


@pytest.mark.parametrize("value", list(BAD.values()), ids=list(BAD))
def test_unsafe_components_are_refused_naming_file_field_and_value(value: str) -> None:
    with pytest.raises(HarnessError) as raised:
        safe_component(value, "'name'", "sweep.yaml")
    message = str(raised.value)
    assert message.startswith("sweep.yaml: 'name' ") and repr(value) in message and "\n" not in message


@pytest.mark.parametrize("value", [None, True, ["a"], {"a": 1}, 1.5])
def test_values_that_are_not_strings_are_refused(value: object) -> None:
    with pytest.raises(HarnessError, match="not a string"):
        safe_component(value, "'name'", "board.yaml")


@pytest.mark.parametrize("value", GOOD)
def test_safe_components_pass_unchanged(value: str) -> None:
    assert safe_component(value, "'name'") == value
    assert safe_component(2024, "'name'") == "2024"


def test_slugs_keep_their_old_spelling_and_never_leave_runs(tmp_path: Path) -> None:
    # the default `runs/<slug>` of every model spec that was already a safe name stays byte-identical
    for model, slug in [("tiny-random", "tiny-random"), ("openai:gpt-4o", "openai_gpt-4o"), ("/abs/ckpt/", "abs_ckpt"),
                        ("HuggingFaceTB/SmolLM2-135M", "HuggingFaceTB_SmolLM2-135M"), ("vllm:/m/x y", "vllm_m_x_y")]:
        assert slugify(model) == slug
    for model, slug in [(".", "model"), ("..", "model"), ("../..", "model"), ("./ckpt", "ckpt"), ("../ckpt", "ckpt"),
                        ("", "model"), ("\x00", "model")]:
        assert slugify(model) == slug
    long = slugify("m" * 400)
    assert len(long) == MAX_LENGTH and long != slugify("m" * 401)
    rng = random.Random(0)
    alphabet = "./\\:\x00\n -_aZ9$~é"
    runs = (tmp_path / "runs").resolve()
    for _ in range(2000):  # a class of inputs, not the listed cases
        model = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        slug = slugify(model)
        assert safe_component(slug, "slug") == slug
        assert (runs / slug).resolve().parent == runs


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """`harness ARGS` in this process, as `main` runs it: the exit code and stderr."""
    code, _, err = run_cli(list(args), capsys)
    return code, err


SWEEP = {"name": "ok", "base_model": "tiny-random", "variants": [{"name": "control", "kind": "none"}],
         "eval": {"tasks": ["niah_single_1"], "lengths": [256], "limit": 1}}
BOARD = {"name": "ok", "sweep": "nowhere", "columns": [{"task": "niah_single_1"}]}


def _sweep_name(name: str) -> dict:
    return {**SWEEP, "name": name}


def _variant_name(name: str) -> dict:
    return {**SWEEP, "variants": [{"name": name, "kind": "none"}]}


def _board_name(name: str) -> dict:
    return {**BOARD, "name": name}


# every place a user string becomes a path component: (what, config builder, command, what the error names)
PLACES = [
    ("sweep name", _sweep_name, ["sweep", "inputs/config.yaml"], "'name'"),
    ("board name", _board_name, ["leaderboard", "build", "inputs/config.yaml"], "'name'"),
]
# variant names are labels (stage directories are content hashes), but never a separator, '..' or a control character
VARIANT_BAD = {k: BAD[k] for k in ("empty", "dot", "dotdot", "climb", "climb far", "absolute", "separator", "backslash",
                                   "windows climb", "nul", "newline", "escape char")}


def _snapshot(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


@pytest.mark.parametrize("place", PLACES, ids=[p[0] for p in PLACES])
@pytest.mark.parametrize("bad", list(BAD), ids=list(BAD))
def test_every_named_directory_refuses_unsafe_names(place, bad: str, tmp_path: Path, monkeypatch, capsys) -> None:
    what, build, command, field = place
    inputs, work = tmp_path / "inputs", tmp_path / "a" / "b" / "c" / "d" / "work"  # `../../../../x` stays inside tmp_path
    inputs.mkdir()
    work.mkdir(parents=True)
    (work / "inputs").symlink_to(inputs)
    (inputs / "config.yaml").write_text(yaml.safe_dump(build(BAD[bad])))
    monkeypatch.chdir(work)
    before = _snapshot(tmp_path)
    code, err = _cli(capsys, *command)
    assert code == 2, err
    assert err.startswith("error: inputs/config.yaml: " + field) and err.count("\n") == 1 and "Traceback" not in err
    assert _snapshot(tmp_path) == before  # nothing created, inside or outside


@pytest.mark.parametrize("bad", list(VARIANT_BAD), ids=list(VARIANT_BAD))
def test_variant_names_refuse_separators_and_climbs(bad: str, tmp_path: Path, monkeypatch, capsys) -> None:
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(_variant_name(VARIANT_BAD[bad])))
    monkeypatch.chdir(tmp_path)
    code, err = _cli(capsys, "sweep", "sweep.yaml")
    assert code == 2 and err.startswith("error: sweep.yaml: variants[0]: 'name' must be") and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep.yaml"]


@pytest.mark.parametrize(("name", "named"), [("../../escaped", "board name"), ("/nonexistent-lc-harness/x", "board name"),
                                             ("a/b", "board name"), (".hidden", "board name"), ("x y", "board name"),
                                             ("..", "is a directory")])
def test_a_board_looked_up_by_name_stays_in_the_board_folder(name: str, named: str, tmp_path: Path, monkeypatch,
                                                             capsys) -> None:
    monkeypatch.chdir(tmp_path)
    code, err = _cli(capsys, "leaderboard", "build", name)
    assert code == 2 and named in err and err.count("\n") == 1


def test_an_explicit_output_keeps_a_display_title_for_the_board(tmp_path: Path) -> None:
    """A board's name is also its page title: only its use as the default directory is refused."""
    from harness.leaderboards.config import default_output, parse_board

    titled = parse_board(_board_name("Tiny demo: needles vs control"), "board.yaml")
    assert titled.name == "Tiny demo: needles vs control"
    with pytest.raises(HarnessError, match=r"board.yaml: 'name' 'Tiny demo: needles vs control' is not a safe"):
        default_output(titled)
    assert default_output(parse_board(BOARD, "board.yaml")) == Path("runs") / "leaderboards" / "ok"
