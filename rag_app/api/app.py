"""`rag serve`: an HTTP API over the same RagService, for the tools people already use.

- ``POST /v1/chat/completions``, OpenAI-compatible, streamed (server-sent events) or not: the
  last user message is the question, the earlier turns its history; ``model`` names the
  knowledge base ("default", or any `rag kb` lists). The reply's text is the app's answer; its
  evidence, sources, checks and trace travel in an extra ``rag`` field (of the response, or of
  the final streamed chunk), which OpenAI clients ignore. ``GET /v1/models`` lists the
  knowledge bases.
- ``POST /ask`` (the `rag ask --json` object), ``GET/POST /documents`` (multipart upload, the
  UI's limits and per-file errors; searchable by keywords when it returns, embedded in the
  background unless ``?wait=true``), ``GET /indexing`` (how far that embedding is),
  ``DELETE /documents/{name}``, ``GET /health``; OpenAPI docs at ``/docs``. ``?kb=NAME`` picks
  the knowledge base. Embedding left waiting (a killed process, a replica) resumes on the next
  request.
- Errors are JSON with one line (``{"error": {"message", "type"}}``), never a traceback.
- Auth: on a loopback address no key is needed; bound to any other address, the server refuses
  to start without ``api.keys``, and then every request needs ``Authorization: Bearer KEY``
  (compared in constant time).
"""

from __future__ import annotations

import hmac
import json
import threading
import time
import uuid
from collections.abc import Callable, Generator, Sequence
from typing import Annotated, Any

from fastapi import FastAPI, File, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.types import Receive, Scope, Send

from rag_app.answering.answers import AnswerStream
from rag_app.api.turns import FifoLock
from rag_app.components import ModelPool
from rag_app.errors import RagError, first_line
from rag_app.knowledge import knowledge_bases, with_knowledge_base
from rag_app.service import EmptyStoreError, RagService
from rag_app.settings import Settings

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class ChatMessage(BaseModel):
    role: str
    content: str | list[dict[str, Any]]

    def text(self) -> str:
        """OpenAI's content may be a list of parts; the text parts are the message."""
        if isinstance(self.content, str):
            return self.content
        return " ".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")


class ChatRequest(BaseModel):
    model: str = "default"
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    max_tokens: int | None = Field(default=None, ge=1, le=4096)


class AskRequest(BaseModel):
    question: str
    kb: str | None = None
    k: int | None = Field(default=None, ge=1, le=50)
    strategy: str | None = None
    mode: str | None = None
    documents: list[str] = Field(default_factory=list)
    route: str | None = None  # auto, lookup, summary, comparison, enumeration


def check_bind(host: str, keys: Sequence[str]) -> None:
    """Refuse to serve other machines without keys (one line: what to do)."""
    if host not in LOOPBACK and not [k for k in keys if k]:
        raise RagError(
            f"refusing to listen on {host} without API keys: set RAG_API__KEYS='[\"a-long-"
            "secret\"]' (clients send it as Authorization: Bearer ...), or listen on 127.0.0.1"
        )


class Services:
    """One RagService per knowledge base, all sharing one ``ModelPool``."""

    def __init__(self, settings: Settings) -> None:
        self.settings, self._lock = settings, threading.Lock()
        self.pool = ModelPool()
        self._by_collection: dict[str, RagService] = {}

    def get(self, kb: str | None) -> RagService:
        name = None if kb in (None, "", "default") else kb
        settings = with_knowledge_base(self.settings, name)
        with self._lock:
            found = self._by_collection.get(settings.collection)
            if found is None:
                found = RagService(settings, pool=self.pool)
                self._by_collection[settings.collection] = found
        found.resume_embedding()  # what a killed process (or replica) left waiting
        return found


def once(action: Callable[[], None]) -> Callable[[], None]:
    """``action``, done at the first call only (later calls do nothing)."""
    done = threading.Lock()

    def run() -> None:
        if done.acquire(blocking=False):
            action()

    return run


class TurnStream(StreamingResponse):
    """A streamed reply that holds the model's turn. Starlette stops iterating when the client
    leaves but does not close the generator (only the garbage collector would, some time
    later, and until then the turn stays taken): closed here, and the turn given back, as soon
    as the reply is over, whichever way it ended."""

    def __init__(self, events: Generator[str, None, None], give_back: Callable[[], None]) -> None:
        super().__init__(events, media_type="text/event-stream")
        self._events, self._give_back = events, give_back

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            try:
                self._events.close()  # no worker runs it now: a cancelled step is waited for
            finally:
                self._give_back()


def error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind}}, status_code=status)


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(
        title="rag-app",
        description="Questions answered from your documents, with evidence and sources.",
        version="1",
    )
    services = Services(settings)
    keys = [k.encode() for k in settings.api.keys if k]
    limit = settings.ui.max_upload_mb * 1_000_000
    generation = FifoLock()  # one generation at a time, in arrival order

    def turn(
        service: RagService, mode: str | None = None, strategy: str | None = None
    ) -> Callable[[], None]:
        """Wait for the model's turn when the answer needs the model (quotes from a strategy
        that writes nothing run side by side with generations); returns what gives it back,
        which acts once."""
        if not service.needs_model(mode, strategy):
            return lambda: None
        generation.acquire()
        return once(generation.release)

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Any:
        if keys and request.url.path not in ("/health",):
            given = request.headers.get("authorization", "")
            token = given.removeprefix("Bearer ").encode() if given.startswith("Bearer ") else b""
            # Every key is compared, in constant time each: no early exit to time.
            if not any([hmac.compare_digest(token, key) for key in keys]):
                return error(
                    401,
                    "missing or wrong API key; send Authorization: Bearer KEY",
                    "authentication_error",
                )
        size = request.headers.get("content-length")
        if size is not None and size.isdigit() and int(size) > limit:
            return error(
                413,
                f"request of {int(size) / 1e6:.1f} MB is over the limit of "
                f"{settings.ui.max_upload_mb} MB; split it, or raise RAG_UI__MAX_UPLOAD_MB",
            )
        try:
            return await call_next(request)
        except EmptyStoreError as exc:
            return error(409, str(exc))
        except RagError as exc:
            return error(400, str(exc))
        except Exception as exc:  # never a traceback to the client; the server log has it
            import logging

            logging.getLogger("rag_app.api").error("unexpected error", exc_info=exc)
            detail = first_line(exc)
            return error(500, f"unexpected {type(exc).__name__}: {detail}", "server_error")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return error(422, f"{where or 'request'}: {first.get('msg', 'invalid')}")

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "documents": len(services.get(None).documents())}

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {
            "object": "list",
            "data": [
                {"id": kb.name, "object": "model", "created": 0, "owned_by": "rag-app"}
                for kb in knowledge_bases(settings).all()
            ],
        }

    @app.post("/v1/chat/completions", response_model=None)
    def chat(request: ChatRequest) -> Any:
        *earlier, last = request.messages
        if last.role != "user":
            raise RagError("the last message must be the user's question")
        service = services.get(request.model)
        history = [(m.role, m.text()) for m in earlier if m.role in ("user", "assistant")]
        question = last.text()
        reply_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

        def start() -> AnswerStream:  # the model may be called already here (follow-ups)
            return service.stream(question, history=history, temperature=request.temperature,
                                  max_tokens=request.max_tokens)  # fmt: skip

        if not request.stream:
            give_back = turn(service)
            try:
                answer = start().consume()
            finally:
                give_back()
            return {
                "id": reply_id,
                "object": "chat.completion",
                "created": created,
                "model": request.model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": answer.answer},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                "rag": answer.to_dict(),
            }

        def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
            body = {
                "id": reply_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": request.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                **extra,
            }
            return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

        # One turn for the whole streamed reply (retrieval, then every token): taken here, so
        # errors before the first byte are still JSON, and given back when the reply ends, fails
        # or its client leaves (see TurnStream).
        give_back = turn(service)
        try:
            stream = start()
        except BaseException:
            give_back()
            raise

        def events() -> Generator[str, None, None]:
            try:
                yield chunk({"role": "assistant", "content": ""})
                if stream.mode == "evidence" or not stream.sources:
                    answer = stream.consume()  # quotes or the no-answer line: all at once
                    yield chunk({"content": answer.answer})
                else:
                    for text in stream:
                        yield chunk({"content": text})
                    answer = stream.consume()
                # The checked answer (it may be the evidence instead of the model's text).
                yield chunk({}, "stop", rag=answer.to_dict())
            finally:
                give_back()
            yield "data: [DONE]\n\n"

        return TurnStream(events(), give_back)

    @app.post("/ask")
    def ask(request: AskRequest) -> dict[str, Any]:
        service = services.get(request.kb)
        give_back = turn(service, request.mode, request.strategy)
        try:
            answer = service.ask(
                request.question,
                request.k,
                strategy=request.strategy,
                mode=request.mode,
                documents=request.documents,
                route=request.route,
            )
        finally:
            give_back()
        return answer.to_dict()

    @app.get("/documents")
    def documents(kb: str | None = None) -> list[dict[str, Any]]:
        return services.get(kb).document_dicts()

    @app.post("/documents")
    def upload(
        files: Annotated[list[UploadFile], File()],
        kb: Annotated[str | None, Query()] = None,
        wait: Annotated[bool, Query()] = False,
    ) -> dict[str, Any]:
        """Searchable by keywords when this returns; embedded in the background (``GET
        /indexing``), or before it returns with ``wait=true``."""
        read = [(f.filename or "upload", f.file.read()) for f in files]
        return services.get(kb).ingest_uploads(read, background=not wait).to_dict()

    @app.get("/indexing")
    def indexing(kb: str | None = None) -> dict[str, Any]:
        """How far the meaning index is: chunks waiting for vectors, overall and by document."""
        service = services.get(kb)
        built = service.indexing(by_document=True)
        names = {r.doc_id: r.source for r in service.documents()}
        return {
            "waiting_vectors": built.waiting,
            "chunks": built.chunks,
            "share": round(built.share, 4),
            "documents": {names.get(d, d): n for d, n in built.by_document.items()},
            "error": service.background_error(),
        }

    @app.delete("/documents/{name}")
    def delete(name: str, kb: str | None = None) -> dict[str, Any]:
        return {"deleted": name, "chunks": services.get(kb).delete(name)}

    return app
