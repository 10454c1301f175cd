"""A LangChain chat model over an in-process llama.cpp model (llama-cpp-python).

``langchain-community``'s ``ChatLlamaCpp`` is being sunset, and this is all we need of it: chat
messages in, streamed text out, one generation at a time (llama.cpp contexts are not
thread-safe, so a lock serializes callers: CLI, UI sessions, evaluation).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from rag_app.errors import RagError

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}
_LOAD_LOCK = threading.Lock()


def cpu_has_amx() -> bool:
    """llama.cpp's AMX kernels crash on some of these CPUs (docs/DEPLOYMENT.md, "AMX Xeons")."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            return any(line.startswith("flags") and " amx" in line for line in info)
    except OSError:
        return False


@contextlib.contextmanager
def without_extra_buffer_types() -> Iterator[None]:
    """Load with ``use_extra_bufts = False``: llama-cpp-python has the field but no keyword.

    ``Llama.__init__`` takes its model parameters from ``llama_model_default_params()``; for the
    duration of one load we hand it defaults with the field turned off.
    """
    import llama_cpp.llama_cpp as low

    original = low.llama_model_default_params

    def patched() -> Any:
        params = original()
        if hasattr(params, "use_extra_bufts"):
            params.use_extra_bufts = False
        return params

    low.llama_model_default_params = patched
    try:
        yield
    finally:
        low.llama_model_default_params = original


def load_llama(
    model_path: str, n_ctx: int, n_threads: int | None, n_gpu_layers: int, seed: int
) -> Any:
    from llama_cpp import Llama

    # AMX only exists on some Xeons; elsewhere the extra buffer types (weight repacking) stay on.
    guard = without_extra_buffer_types() if cpu_has_amx() else contextlib.nullcontext()
    with _LOAD_LOCK, guard:
        return Llama(
            model_path=model_path,
            n_ctx=n_ctx,
            n_threads=n_threads or os.cpu_count() or 1,
            n_gpu_layers=n_gpu_layers,
            seed=seed,
            verbose=False,
        )


class ChatLlamaCpp(BaseChatModel):
    """Chat over a loaded ``llama_cpp.Llama``, using the chat template stored in the GGUF."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    llama: Any
    model_name: str = "llama.cpp"
    temperature: float = 0.1
    max_tokens: int = 384
    top_p: float = 0.95
    repeat_penalty: float = 1.1
    seed: int = 0  # sent with every request: the same question gets the same text
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "temperature": self.temperature}

    def _request(self, messages: list[BaseMessage], stop: list[str] | None, **kw: Any) -> dict:
        return {
            "messages": [{"role": _ROLES.get(m.type, "user"), "content": m.text} for m in messages],
            "temperature": kw.get("temperature", self.temperature),
            "max_tokens": kw.get("max_tokens", self.max_tokens),
            "top_p": self.top_p,
            "repeat_penalty": self.repeat_penalty,
            "stop": stop or [],
            "seed": kw.get("seed", self.seed),
        }

    def next_token_logits(self, messages: list[BaseMessage], words: list[str]) -> list[float]:
        """The logit of each word's first token as the reply's first token: one prefill of the
        prompt (its start reused from the last call) and nothing generated after it. The LLM
        reranker reads yes/no odds from it, where a small model's text is rarely a grade."""
        ids = [self.llama.tokenize(w.encode(), add_bos=False, special=False)[0] for w in words]
        seen: list[float] = []

        def capture(_input_ids: Any, scores: Any) -> Any:
            seen[:] = [float(scores[i]) for i in ids]
            return scores

        from llama_cpp import LogitsProcessorList

        request = self._request(messages, None, max_tokens=1, temperature=0.0)
        with self._lock:
            try:
                self.llama.create_chat_completion(
                    **request, logits_processor=LogitsProcessorList([capture])
                )
            except ValueError as exc:
                raise self._refused(exc) from None
        return seen

    def _refused(self, exc: ValueError) -> RagError:
        """llama.cpp refuses a prompt longer than the context window with a ValueError."""
        return RagError(
            f"chat model {self.model_name}: {exc}; ask with fewer passages (retrieval.k) or a "
            "larger context window (llm.n_ctx)"
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        with self._lock:
            try:
                out = self.llama.create_chat_completion(**self._request(messages, stop, **kwargs))
            except ValueError as exc:
                raise self._refused(exc) from None
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        message = AIMessage(
            content=choice["message"].get("content") or "",
            response_metadata={"finish_reason": choice.get("finish_reason")},
            usage_metadata={
                "input_tokens": usage.get("prompt_tokens", 0),
                "output_tokens": usage.get("completion_tokens", 0),
                "total_tokens": usage.get("total_tokens", 0),
            },
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        with self._lock:
            request = self._request(messages, stop, **kwargs)
            try:
                parts = iter(self.llama.create_chat_completion(stream=True, **request))
                first = next(parts, None)  # the prompt is checked before the first token
            except ValueError as exc:
                raise self._refused(exc) from None
            for part in itertools.chain([first] if first else [], parts):
                choice = part["choices"][0]
                text = choice.get("delta", {}).get("content") or ""
                finish = choice.get("finish_reason")
                if not text and not finish:
                    continue
                chunk = ChatGenerationChunk(
                    message=AIMessageChunk(
                        content=text,
                        response_metadata={"finish_reason": finish} if finish else {},
                    )
                )
                if run_manager and text:
                    run_manager.on_llm_new_token(text, chunk=chunk)
                yield chunk
