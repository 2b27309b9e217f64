"""Turn a sample's prompt into the exact text (and chat messages) the model sees, and count it.

The chat template is applied when the tokenizer has one and the task wants chat
(`--chat-template auto`), always (`on`) or never (`off`). A task's answer prefix goes inside the
assistant turn, right after the template's generation prompt (RULER issue #70).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

from harness.core.backends.base import GenerationRequest
from harness.core.errors import HarnessError
from harness.core.types import Message, Prompt

ChatMode = Literal["auto", "on", "off"]


def as_messages(prompt: Prompt) -> list[Message]:
    """A prompt in chat form: plain text becomes one user message."""
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    return list(prompt)


def as_text(prompt: Prompt) -> str:
    """A prompt as plain text for completion-style models: message contents joined by blank lines."""
    if isinstance(prompt, str):
        return prompt
    return "\n\n".join(m["content"] for m in prompt)


class TokenCosts:
    """Token counts of short strings under one tokenizer, cached, tokenized in batches.

    `additive` records whether this tokenizer counts a concatenation at whitespace boundaries
    as the sum of its parts (true for pre-tokenizing BPE, WordPiece and Unigram tokenizers);
    the sizing code checks it once against a full tokenisation and falls back when it fails.
    """

    MAX_ENTRIES = 2_000_000
    PROBE_TEXTS = 64  # the one-time backend-vs-wrapper check: this many texts ...
    PROBE_CHARS = 4096  # ... of at most this many characters each

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.additive = True
        self.verified: set[str] = set()
        self.memo: dict[Any, Any] = {}
        self._cache: dict[str, int] = {}
        self._checked: dict[bool, bool] = {}

    def of(self, texts: Sequence[str]) -> list[int]:
        """Token counts (no special tokens) of each text."""
        cache = self._cache
        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        if missing:
            if len(cache) + len(missing) > self.MAX_ENTRIES:
                cache.clear()
            cache.update(zip(missing, self.lengths(missing, add_special_tokens=False)))
        return [cache[t] for t in texts]

    def lengths(self, texts: list[str], add_special_tokens: bool) -> list[int]:
        """Token counts of each text, uncached: straight from the tokenizers backend when that is safe.

        transformers' wrapper converts every encoding to Python lists (2-3x the cost of counting
        short texts). The backend is called directly only while its state is the one the wrapper
        would encode with (no truncation or padding, the same special-token splitting), and only
        after its ids matched the wrapper's once on this tokenizer (per `add_special_tokens`).
        """
        backend = self._backend() if texts else None
        if backend is not None:
            checked = self._checked.get(add_special_tokens)
            if checked is None:
                probe = [t[:self.PROBE_CHARS] for t in texts[:self.PROBE_TEXTS]]
                mine = [e.ids for e in backend.encode_batch_fast(probe, add_special_tokens=add_special_tokens)]
                theirs = self.tokenizer(probe, add_special_tokens=add_special_tokens)["input_ids"]
                checked = self._checked[add_special_tokens] = mine == [list(ids) for ids in theirs]
            if checked:
                return [len(e.ids) for e in backend.encode_batch_fast(texts, add_special_tokens=add_special_tokens)]
        return list(map(len, self.tokenizer(texts, add_special_tokens=add_special_tokens)["input_ids"]))

    def _backend(self) -> Any | None:
        """The Rust tokenizer behind a fast tokenizer, while encoding with it equals calling the wrapper."""
        backend = getattr(self.tokenizer, "backend_tokenizer", None)
        if backend is None or not hasattr(backend, "encode_batch_fast"):
            return None
        if backend.truncation is not None or backend.padding is not None:
            return None
        if backend.encode_special_tokens != bool(getattr(self.tokenizer, "split_special_tokens", False)):
            return None
        return backend


@dataclass(frozen=True)
class PromptFormat:
    """How prompts are rendered for one model: its tokenizer and whether chat is used."""

    tokenizer: Any
    chat: bool
    costs: TokenCosts | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.costs is None and self.tokenizer is not None:
            object.__setattr__(self, "costs", TokenCosts(self.tokenizer))

    @property
    def tokenizer_hash(self) -> str:
        """sha256 (first 16 hex) of the tokenizer's full definition: what sample caches key on."""
        memo = self.costs.memo if self.costs is not None else {}
        if "tokenizer_hash" not in memo:
            if self.tokenizer is None:
                raise HarnessError("cannot size samples without a tokenizer: pass --tokenizer PATH_OR_HUB_ID")
            backend = getattr(self.tokenizer, "backend_tokenizer", None)
            text = backend.to_str() if backend is not None else repr(sorted(self.tokenizer.get_vocab().items()))
            memo["tokenizer_hash"] = hashlib.sha256(text.encode()).hexdigest()[:16]
        digest: str = memo["tokenizer_hash"]
        return digest

    @classmethod
    def create(cls, tokenizer: Any, mode: ChatMode, task_wants_chat: bool = True,
               costs: TokenCosts | None = None) -> "PromptFormat":
        """Resolve `--chat-template auto|on|off` against the tokenizer and the task."""
        has_template = tokenizer is not None and bool(getattr(tokenizer, "chat_template", None))
        if mode == "on" and not has_template:
            raise HarnessError("--chat-template on, but the model's tokenizer has no chat template")
        if mode not in ("auto", "on", "off"):
            raise HarnessError(f"bad --chat-template {mode!r}: expected auto, on or off")
        use = has_template and (mode == "on" or (mode == "auto" and task_wants_chat))
        return cls(tokenizer=tokenizer, chat=use, costs=costs)

    def with_chat(self, chat: bool) -> "PromptFormat":
        """The same tokenizer (and token-cost cache) with chat switched on or off."""
        return PromptFormat(tokenizer=self.tokenizer, chat=chat, costs=self.costs)

    @property
    def template_hash(self) -> str | None:
        """sha256 (first 16 hex) of the chat template in use, or None without chat."""
        if not self.chat:
            return None
        return hashlib.sha256(self.tokenizer.chat_template.encode()).hexdigest()[:16]

    def render(self, prompt: Prompt, answer_prefix: str = "") -> str:
        """The full text the model continues from."""
        if not self.chat:
            return as_text(prompt) + answer_prefix
        text: str = self.tokenizer.apply_chat_template(as_messages(prompt), add_generation_prompt=True, tokenize=False)
        return text + answer_prefix

    def count(self, prompt: Prompt, answer_prefix: str = "") -> int:
        """Prompt tokens as the model sees them: template and answer prefix included."""
        if self.tokenizer is None:
            raise HarnessError("cannot size samples without a tokenizer: pass --tokenizer PATH_OR_HUB_ID")
        text = self.render(prompt, answer_prefix)
        if self.costs is not None:
            return self.costs.lengths([text], add_special_tokens=not self.chat)[0]
        return len(self.tokenizer(text, add_special_tokens=not self.chat)["input_ids"])

    def request(self, prompt: Prompt, answer_prefix: str, max_tokens: int, stop: tuple[str, ...] = ()) -> GenerationRequest:
        """The backend request for one prompt."""
        messages: tuple[Message, ...] | None = None
        if self.chat:
            turns = as_messages(prompt)
            if answer_prefix:
                turns.append({"role": "assistant", "content": answer_prefix})
            messages = tuple(turns)
        return GenerationRequest(
            text=self.render(prompt, answer_prefix),
            max_tokens=max_tokens,
            messages=messages,
            stop=stop,
            add_special_tokens=not self.chat,
        )
