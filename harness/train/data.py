"""Training data: chat or prompt/completion records -> token ids with assistant-only labels -> packs.

Data preparation is its own step (as nanoGPT's prepare.py): it depends only on the records, the
tokenizer and the sequence length, and its statistics (truncated and dropped examples, real-token
share) are reported, never silent.
"""

from __future__ import annotations

import bisect
import hashlib
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from harness.core.errors import HarnessError
from harness.core.prompt import as_text
from harness.core.types import Message
from harness.core.userfiles import check_type, iter_jsonl

IGNORE = -100


@dataclass(frozen=True)
class Example:
    """One tokenized training example: labels are -100 where no loss is taken."""

    input_ids: list[int]
    labels: list[int]


@dataclass
class PrepStats:
    examples: int = 0
    truncated: int = 0
    dropped: int = 0
    tokens: int = 0
    label_tokens: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def data_file(path: str) -> Path:
    """A JSONL file, or a directory holding `data.jsonl` (what `harness synth run` writes)."""
    candidate = Path(path).expanduser()
    if candidate.is_dir():
        candidate = candidate / "data.jsonl"
    if not candidate.exists():
        raise HarnessError(f"training data {path!r} not found (a .jsonl file or a directory with data.jsonl)")
    return candidate


def _looks_local(path: str) -> bool:
    """True for names that can only be local files (a hub id is `name` or `org/name`, no suffix)."""
    return path.startswith((".", "/", "~")) or path.count("/") > 1 or Path(path).suffix in (".jsonl", ".json")


def read_records(path: str) -> Iterator[dict[str, Any]]:
    """Records from a local JSONL (or synth output dir); otherwise a `datasets` hub id's train split.
    Each record is checked (`check_record`): a bad one is an error naming the file, line and field."""
    local = Path(path).expanduser()
    if local.exists():
        file = data_file(path)
        for number, record in iter_jsonl(file, "training data"):
            check_record(record, f"{file}:{number}")
            yield record
        return
    if _looks_local(path):
        raise HarnessError(f"training data {path} does not exist (a .jsonl file or a directory with data.jsonl)")
    import datasets

    try:
        rows = datasets.load_dataset(path, split="train")
    except Exception as error:  # datasets raises many types when offline or missing
        raise HarnessError(f"training data {path!r}: not a local file and not loadable from the hub ({error})") from None
    for index, row in enumerate(rows):
        check_record(row, f"training data {path} row {index}")
        yield row


def check_data(path: str) -> int:
    """Read and check every record of local training data now, before any output is claimed or
    model loaded (a hub dataset is checked as it is read); the number of records."""
    if not Path(path).expanduser().exists() and not _looks_local(path):
        return 0
    count = sum(1 for _ in read_records(path))
    if count == 0:
        raise HarnessError(f"training data {data_file(path)} holds no records")
    return count


def check_record(record: Any, where: str) -> None:
    """A record is `{"messages": [{"role", "content"}, ...]}` with an assistant turn, or
    `{"prompt", "completion"}` (strings); raise naming `where` and the field otherwise."""
    check_type(record, dict, where)
    if "messages" in record:
        messages = record["messages"]
        check_type(messages, list, f"{where}: field 'messages'")
        for i, message in enumerate(messages):
            at = f"{where}: messages[{i}]"
            check_type(message, dict, at)
            for key in ("role", "content"):
                if key not in message:
                    raise HarnessError(f"{at}: missing field {key!r}")
                check_type(message[key], str, f"{at}.{key}")
        if not any(m["role"] == "assistant" for m in messages):
            raise HarnessError(f"{where}: no message with role 'assistant' (nothing to learn from)")
    elif "prompt" in record and "completion" in record:
        check_type(record["prompt"], str, f"{where}: field 'prompt'")
        check_type(record["completion"], str, f"{where}: field 'completion'")
    else:
        raise HarnessError(f"{where}: a record needs 'messages', or 'prompt' and 'completion' "
                           f"(has {', '.join(sorted(record)) or 'no fields'})")


def data_digest(path: str) -> str:
    """sha256 of the data file (or the hub id) for manifests and sweep caching."""
    local = Path(path).expanduser()
    if not local.exists():
        return "hub:" + path
    digest = hashlib.sha256()
    with open(data_file(path), "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _chat_example(tokenizer: Any, messages: list[dict[str, str]]) -> Example:
    """Assistant-only labels by rendering growing prefixes of the conversation with the chat template."""
    if not any(m.get("role") == "assistant" for m in messages):
        raise ValueError("no assistant message")
    if not getattr(tokenizer, "chat_template", None):
        last = max(i for i, m in enumerate(messages) if m["role"] == "assistant")
        turns: list[Message] = [{"role": m["role"], "content": m["content"]} for m in messages[:last]]
        return _pair_example(tokenizer, as_text(turns) + "\n\n", messages[last]["content"])

    def ids(turns: list[dict[str, str]], generation_prompt: bool) -> list[int]:
        text = tokenizer.apply_chat_template(turns, tokenize=False, add_generation_prompt=generation_prompt)
        input_ids: list[int] = tokenizer(text, add_special_tokens=False)["input_ids"]
        return input_ids

    full = ids(messages, False)
    labels = [IGNORE] * len(full)
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        start = len(ids(messages[:i], True))
        end = len(ids(messages[: i + 1], False))
        labels[start:end] = full[start:end]
    return Example(full, labels)


def _pair_example(tokenizer: Any, prompt: str, completion: str) -> Example:
    prompt_ids = tokenizer(prompt, add_special_tokens=True)["input_ids"]
    completion_ids = tokenizer(completion, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    return Example(prompt_ids + completion_ids, [IGNORE] * len(prompt_ids) + completion_ids)


def tokenize_record(tokenizer: Any, record: dict[str, Any]) -> Example:
    """`{"messages": [...]}` (chat) or `{"prompt", "completion"}` -> an Example."""
    if "messages" in record:
        return _chat_example(tokenizer, record["messages"])
    if "prompt" in record and "completion" in record:
        return _pair_example(tokenizer, record["prompt"], record["completion"])
    raise ValueError("a record needs 'messages' or 'prompt' and 'completion'")


def prepare(records: Sequence[dict[str, Any]], tokenizer: Any, max_length: int) -> tuple[list[Example], PrepStats]:
    """Tokenize every record for sequences of at most `max_length` tokens.

    A longer example keeps its first `max_length` tokens (counted as truncated); one left with no
    label token is dropped (counted)."""
    stats = PrepStats()
    examples: list[Example] = []
    for number, record in enumerate(records, 1):
        try:
            example = tokenize_record(tokenizer, record)
        except (ValueError, KeyError, TypeError) as error:
            raise HarnessError(f"training record {number}: {error}") from None
        if len(example.input_ids) > max_length:
            stats.truncated += 1
            example = Example(example.input_ids[:max_length], example.labels[:max_length])
        if all(label == IGNORE for label in example.labels[1:]):
            stats.dropped += 1
            continue
        examples.append(example)
        stats.examples += 1
        stats.tokens += len(example.input_ids)
        stats.label_tokens += sum(label != IGNORE for label in example.labels[1:])
    if not examples:
        raise HarnessError("no usable training examples (all dropped: no assistant or completion tokens left)")
    return examples, stats


def pack(lengths: Sequence[int], capacity: int, seed: int) -> list[list[int]]:
    """Best-fit decreasing: group example indices into bins of at most `capacity` tokens.

    Deterministic; the bins come back shuffled with `seed` so training does not see lengths in order."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    free: list[tuple[int, int]] = []  # (remaining capacity, bin index), sorted
    bins: list[list[int]] = []
    for i in order:
        size = lengths[i]
        at = bisect.bisect_left(free, (size, -1))
        if at < len(free):
            remaining, b = free.pop(at)
            bins[b].append(i)
            bisect.insort(free, (remaining - size, b))
        else:
            bins.append([i])
            bisect.insort(free, (capacity - size, len(bins) - 1))
    random.Random(seed).shuffle(bins)
    return bins


def real_token_share(lengths: Sequence[int], bins: Sequence[Sequence[int]], capacity: int) -> float:
    """Fraction of the sequence slots holding real tokens when each bin is one sequence of `capacity`."""
    return sum(lengths) / (capacity * len(bins)) if bins else 0.0
