import pytest

from harness.core.errors import HarnessError
from harness.train.data import IGNORE, pack, prepare, real_token_share, tokenize_record


def test_assistant_only_labels_with_a_chat_template(chat_tokenizer) -> None:
    record = {"messages": [{"role": "user", "content": "What is two plus two?"}, {"role": "assistant", "content": "Four."},
                           {"role": "user", "content": "And three?"}, {"role": "assistant", "content": "Six."}]}
    example = tokenize_record(chat_tokenizer, record)
    labelled = [t for t, label in zip(example.input_ids, example.labels) if label != IGNORE]
    text = chat_tokenizer.decode(labelled)
    assert text == "Four.<|im_end|>\nSix.<|im_end|>\n"
    assert "two plus two" not in text


def test_prompt_completion_and_base_model_chat(tokenizer) -> None:
    example = tokenize_record(tokenizer, {"prompt": "Q: 2+2?", "completion": " 4"})
    labelled = [t for t, label in zip(example.input_ids, example.labels) if label != IGNORE]
    assert tokenizer.decode(labelled) == " 4" + tokenizer.eos_token
    chat = tokenize_record(tokenizer, {"messages": [{"role": "user", "content": "Q?"}, {"role": "assistant", "content": "A."}]})
    assert tokenizer.decode([t for t, label in zip(chat.input_ids, chat.labels) if label != IGNORE]).startswith("A.")


def test_truncation_and_drops_are_counted(tokenizer) -> None:
    records = [{"prompt": "word " * 50, "completion": " yes"}, {"prompt": "short", "completion": " ok " * 40},
               {"prompt": "fine", "completion": " ok"}]
    examples, stats = prepare(records, tokenizer, 20)
    assert stats.truncated == 2 and stats.dropped == 1 and stats.examples == 2
    assert all(len(e.input_ids) <= 20 for e in examples)
    with pytest.raises(HarnessError, match="training record 1: a record needs"):
        prepare([{"text": "x"}], tokenizer, 20)


def test_best_fit_packing() -> None:
    lengths = [9, 7, 6, 5, 4, 3, 2, 2, 1, 1]
    bins = pack(lengths, 10, seed=0)
    assert sorted(i for b in bins for i in b) == list(range(10))
    assert all(sum(lengths[i] for i in b) <= 10 for b in bins)
    assert len(bins) == 4  # 40 tokens in 4 bins of 10: a perfect fit
    assert real_token_share(lengths, bins, 10) == 1.0
    assert pack(lengths, 10, seed=0) == bins  # deterministic
