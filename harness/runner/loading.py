"""The model loads in the background while the samples are built.

Building samples needs only the tokenizer, which loads in under a second without torch; loading an hf model imports
torch and reads the weights (seconds to minutes). `LoadingBackend` holds the tokenizer at once and the model from a
background thread: the first use of anything else (the model's name, max length, a generation) waits for the load
and raises its error, if any, as the load itself would have.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Sequence

from harness.core.backends.base import Backend, Generation, GenerationRequest, Loglikelihood, LoglikelihoodRequest


class LoadingBackend(Backend):
    """The backend `load()` returns, loading in a thread; `tokenizer` is its tokenizer, loaded already."""

    def __init__(self, load: Callable[[], Backend], tokenizer: Any) -> None:
        self._tokenizer = tokenizer
        self._loaded: Backend | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._load, args=(load,), name="model-load", daemon=True)
        self._thread.start()

    def _load(self, load: Callable[[], Backend]) -> None:
        try:
            self._loaded = load()
        except BaseException as error:  # raised again in the thread that uses the backend
            self._error = error

    def ready(self) -> Backend:
        """The loaded backend (waits for the load; its error raised here)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._loaded is not None
        return self._loaded

    @property
    def name(self) -> str:  # type: ignore[override]  # the loaded backend's
        return self.ready().name

    @property
    def tokenizer(self) -> Any:
        return self._tokenizer

    @property
    def max_length(self) -> int:
        return self.ready().max_length

    @property
    def batch_hint(self) -> int:
        return self.ready().batch_hint

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        return self.ready().generate(requests)

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[Loglikelihood]:
        return self.ready().loglikelihood(requests)

    def describe(self) -> dict[str, Any]:
        return self.ready().describe()

    def close(self) -> None:
        self._thread.join()
        if self._loaded is not None:
            self._loaded.close()

    def __getattr__(self, attribute: str) -> Any:  # what a particular backend adds (only called for those)
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        return getattr(self.ready(), attribute)
