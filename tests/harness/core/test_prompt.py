import pytest

from harness.core.errors import HarnessError
from harness.core.prompt import PromptFormat


def test_answer_prefix_sits_inside_the_assistant_turn(chat_tokenizer) -> None:
    fmt = PromptFormat.create(chat_tokenizer, "auto")
    text = fmt.render("What is the number?", " The number is")
    assert text.endswith("<|im_start|>assistant\n The number is")
    request = fmt.request("What is the number?", " The number is", max_tokens=8)
    assert request.messages is not None and request.messages[-1] == {"role": "assistant", "content": " The number is"}
    assert request.add_special_tokens is False


def test_chat_off_and_no_template(chat_tokenizer, tokenizer) -> None:
    assert PromptFormat.create(chat_tokenizer, "off").render("Q?", " A:") == "Q? A:"
    assert PromptFormat.create(tokenizer, "auto").chat is False  # the tiny model is a base model
    with pytest.raises(HarnessError, match="no chat template"):
        PromptFormat.create(tokenizer, "on")


def test_count_includes_template_and_prefix(chat_tokenizer) -> None:
    chat = PromptFormat.create(chat_tokenizer, "on")
    plain = PromptFormat.create(chat_tokenizer, "off")
    assert chat.count("hello there", " prefix") > plain.count("hello there", " prefix") > plain.count("hello there")
    ids = chat_tokenizer(chat.render("hello there", " prefix"), add_special_tokens=False)["input_ids"]
    assert chat.count("hello there", " prefix") == len(ids)


def test_template_hash_only_with_chat(chat_tokenizer) -> None:
    assert PromptFormat.create(chat_tokenizer, "off").template_hash is None
    assert len(PromptFormat.create(chat_tokenizer, "on").template_hash or "") == 16


def test_without_a_tokenizer_sizing_and_cache_keys_ask_for_one() -> None:
    """An openai:NAME model without --tokenizer: one line asking for it, not an AttributeError (the sample cache keys
    on the tokenizer's hash before any sample is sized)."""
    fmt = PromptFormat.create(None, "auto")
    with pytest.raises(HarnessError, match="--tokenizer"):
        _ = fmt.tokenizer_hash
    with pytest.raises(HarnessError, match="--tokenizer"):
        fmt.count("hello")
