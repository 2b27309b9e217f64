"""`load_tokenizer`: a plain fast-tokenizer folder loads without transformers' auto machinery (and
torch), as the same tokenizer AutoTokenizer gives; any other folder still goes through AutoTokenizer."""

import json
import shutil
from pathlib import Path

import pytest

from harness.core.backends import hf


@pytest.fixture(scope="module")
def smollm2(chat_tokenizer) -> Path:  # type: ignore[no-untyped-def]
    from harness.core.models import BUILTINS

    return BUILTINS["smollm2-135m"].ensure()


@pytest.mark.parametrize("which", ["tiny", "smollm2"])
def test_the_direct_load_is_autotokenizers(which: str, tiny_path: Path, smollm2: Path) -> None:
    from transformers import AutoTokenizer

    folder = str(tiny_path if which == "tiny" else smollm2)
    assert hf._plain_fast_tokenizer(folder)
    ours, auto = hf.load_tokenizer(folder), AutoTokenizer.from_pretrained(folder)
    assert type(ours) is type(auto)
    assert ours.chat_template == auto.chat_template and ours.special_tokens_map == auto.special_tokens_map
    assert (ours.padding_side, ours.model_max_length, ours.all_special_ids) == (
        auto.padding_side, auto.model_max_length, auto.all_special_ids)
    texts = ["Hello  world\n\n 123.", "<|im_start|>user x<|im_end|>", "Üñí çødé ✓ \t tabs"]
    assert ours(texts)["input_ids"] == auto(texts)["input_ids"]
    assert ours(texts, add_special_tokens=False)["input_ids"] == auto(texts, add_special_tokens=False)["input_ids"]
    if auto.chat_template:
        chat = [{"role": "user", "content": texts[0]}]
        assert ours.apply_chat_template(chat, tokenize=False) == auto.apply_chat_template(chat, tokenize=False)


def _edited(src: Path, dst: Path, file: str, **changes: object) -> str:
    shutil.copytree(src, dst)
    data = json.loads((dst / file).read_text())
    data.update(changes)
    (dst / file).write_text(json.dumps(data))
    return str(dst)


def test_other_folders_go_through_autotokenizer(tiny_path: Path, tmp_path: Path) -> None:
    assert not hf._plain_fast_tokenizer(_edited(tiny_path, tmp_path / "a", "config.json", model_type="mistral"))
    assert not hf._plain_fast_tokenizer(_edited(tiny_path, tmp_path / "b", "tokenizer_config.json",
                                                tokenizer_class="LlamaTokenizer"))
    assert not hf._plain_fast_tokenizer(_edited(tiny_path, tmp_path / "c", "tokenizer_config.json",
                                                auto_map={"AutoTokenizer": ["x.Y", None]}))
    assert not hf._plain_fast_tokenizer(str(tmp_path / "missing"))
    assert not hf._plain_fast_tokenizer("HuggingFaceTB/SmolLM2-135M")
