"""Token counts straight from the tokenizers backend equal transformers' wrapper (TokenCosts.lengths)."""

import copy
from pathlib import Path
from typing import Any

from harness.core.prompt import PromptFormat, TokenCosts


def _texts(shared_data: Path) -> list[str]:
    """Essay words, sentences, paragraphs and whole essays, RULER's labels, specials and odd characters."""
    essays = [p.read_text() for p in sorted((shared_data / "pg_essays").glob("*.txt"))[:6]]
    words = [" " + w for e in essays for w in e.split()[:400]]
    sentences = [s for e in essays for s in e.split(". ")[:60]]
    paragraphs = [p for e in essays for p in e.split("\n\n")[:20]]
    labels = [f" {i}." for i in range(1, 400)] + [f"\n{i}:" for i in range(1, 50)]
    odd = ["", " ", "\n\n", "<|im_start|>user\nhi<|im_end|>", "naïve café 東京 🙂", "\t tabs\tand  spaces  ", "<|endoftext|>"]
    return words + sentences + paragraphs + labels + odd + essays


def test_costs_match_the_wrapper_on_essays_and_words(chat_tokenizer, shared_data) -> None:
    texts = _texts(shared_data)
    costs = TokenCosts(chat_tokenizer)
    expected = [len(ids) for ids in chat_tokenizer(texts, add_special_tokens=False)["input_ids"]]
    assert costs.of(texts) == expected
    assert costs._checked == {False: True}  # the backend path was taken (else this test proves nothing)


def test_prompt_counts_match_the_wrapper(chat_tokenizer, tokenizer, shared_data) -> None:
    """Chat on (no special tokens added) and off (the tokenizer's own BOS/EOS rules) over many prompts."""
    texts = _texts(shared_data)[::7]
    for fmt in (PromptFormat.create(chat_tokenizer, "on"), PromptFormat.create(chat_tokenizer, "off"),
                PromptFormat.create(tokenizer, "off")):
        for prompt in texts:
            for prefix in ("", " Answer:"):
                text = fmt.render(prompt, prefix)
                want = len(fmt.tokenizer(text, add_special_tokens=not fmt.chat)["input_ids"])
                assert fmt.count(prompt, prefix) == want, (fmt.chat, prompt[:60], prefix)
        assert fmt.costs is not None and fmt.costs._checked.get(not fmt.chat) is True


def test_truncation_on_the_backend_means_the_wrapper(chat_tokenizer) -> None:
    """A backend left with truncation set is not what the wrapper encodes with: no fast path."""
    tok = copy.deepcopy(chat_tokenizer)
    tok.backend_tokenizer.enable_truncation(max_length=3)
    costs = TokenCosts(tok)
    assert costs._backend() is None
    text = "one two three four five six seven"
    assert costs.of([text]) == [len(chat_tokenizer(text, add_special_tokens=False)["input_ids"])]


class _Disagreeing:
    """A tokenizer whose wrapper adds a token the backend does not: the one-time check must catch it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.backend_tokenizer = inner.backend_tokenizer
        self.split_special_tokens = False

    def __call__(self, texts: Any, add_special_tokens: bool) -> dict[str, Any]:
        ids = self.inner(texts, add_special_tokens=add_special_tokens)["input_ids"]
        return {"input_ids": [[0, *x] for x in ids] if isinstance(texts, list) else [0, *ids]}


def test_a_backend_that_disagrees_is_not_used(chat_tokenizer) -> None:
    costs = TokenCosts(_Disagreeing(chat_tokenizer))
    text = "hello there, general"
    assert costs.of([text]) == [len(chat_tokenizer(text, add_special_tokens=False)["input_ids"]) + 1]
    assert costs._checked == {False: False}
