"""A GGUF file's header, read by hand with ``struct``, without loading the model.

Listing twenty multi-GB models must take a moment, and a corrupt or hostile file must cost
bounded reads and memory, never a crash or a hang: every count and length is checked against
the file's size and a cap before anything is read or skipped. llama_cpp is not imported.
Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md (v2 and v3).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from rag_app.settings import GGUF_MAGIC

SUPPORTED_VERSIONS = (2, 3)  # v1 (2023) used 32-bit lengths; llama.cpp no longer reads it
# Real headers are a few MB (the tokenizer's vocabulary and merges); these caps keep a corrupt
# or hostile file from making the reader allocate or loop without end.
MAX_HEADER_BYTES = 64 * 1024 * 1024
MAX_KV_COUNT = 100_000
MAX_TENSOR_COUNT = 1_000_000
MAX_STRING_BYTES = 1024 * 1024
KEPT_STRING_BYTES = 1024  # longer strings (chat templates) are skipped, not kept
MAX_ARRAY_DEPTH = 2
MAX_DIMS = 4  # GGML_MAX_DIMS
DEFAULT_ALIGNMENT = 32

_SCALARS = {
    0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q",
    12: "<d",
}  # fmt: skip
_STRING, _ARRAY = 8, 9
_U64 = struct.Struct("<Q")
STRING_CHUNK = MAX_STRING_BYTES + 8  # any string that is not refused fits in one read

# llama.cpp's LLAMA_FTYPE enum (llama.h), the value of general.file_type; gaps are removed types.
FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 4: "Q4_1_SOME_F16", 7: "Q8_0", 8: "Q5_0",
    9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S",
    15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS",
    21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S",
    27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16",
    36: "TQ1_0", 37: "TQ2_0", 38: "MXFP4_MOE", 39: "NVFP4", 40: "Q1_0", 41: "Q2_0",
}  # fmt: skip
FILE_TYPE_GUESSED = 1024  # llama.cpp ORs this in when it guessed the type

# ggml tensor types: (elements per block, bytes per block), as gguf-py's GGML_QUANT_SIZES.
# Unknown (newer) types are not measured, so they never make a good file look truncated.
TENSOR_TYPES = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    9: (32, 36), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176),
    14: (256, 210), 15: (256, 292), 16: (256, 66), 17: (256, 74), 18: (256, 98),
    19: (256, 50), 20: (32, 18), 21: (256, 110), 22: (256, 82), 23: (256, 136), 24: (1, 1),
    25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2), 34: (256, 54),
    35: (256, 66), 39: (32, 17), 40: (64, 36), 41: (128, 18), 42: (64, 18),
}  # fmt: skip

POOLING_RANK = 4  # llama.cpp's LLAMA_POOLING_TYPE_RANK, in <arch>.pooling_type

# GGUF files that are not chat models, by general.architecture.
NOT_CHAT = {
    "clip": "a vision projector",
    "bert": "an embedding model",
    "nomic-bert": "an embedding model",
    "nomic-bert-moe": "an embedding model",
    "jina-bert-v2": "an embedding model",
    "t5encoder": "a text encoder",
}


class GgufError(Exception):
    """Why a file cannot be used, in a few words (shown next to its name)."""


@dataclass(frozen=True)
class GgufHeader:
    version: int
    tensor_count: int
    metadata: dict[str, Any]  # scalars and short strings only; arrays are skipped
    data_bytes: int = 0  # where the last tensor's data ends, counted from the file's start

    @property
    def architecture(self) -> str | None:
        value = self.metadata.get("general.architecture")
        return value if isinstance(value, str) else None

    @property
    def context_length(self) -> int | None:
        return _integer(self.metadata.get(f"{self.architecture}.context_length"))

    @property
    def quantisation(self) -> str | None:
        value = _integer(self.metadata.get("general.file_type"))
        if value is None:
            return None
        value &= ~FILE_TYPE_GUESSED
        return FILE_TYPES.get(value, f"type {value}")

    @property
    def title(self) -> str | None:
        value = self.metadata.get("general.name")
        return value if isinstance(value, str) else None

    @property
    def is_reranker(self) -> bool:
        """Whether llama.cpp runs it with rank pooling (a classification head: a reranker)."""
        return _integer(self.metadata.get(f"{self.architecture}.pooling_type")) == POOLING_RANK


def _integer(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class _Reader:
    """Sequential little-endian reads that refuse to pass the file's end or the byte cap."""

    def __init__(self, handle: BinaryIO, size: int) -> None:
        self.handle, self.size, self.pos = handle, size, 0

    def _advance(self, count: int) -> None:
        if self.pos + count > self.size:
            raise GgufError("truncated GGUF header")
        if self.pos + count > MAX_HEADER_BYTES:
            raise GgufError(f"GGUF header over {MAX_HEADER_BYTES // 2**20} MB")
        self.pos += count

    def read(self, count: int) -> bytes:
        self._advance(count)
        data = self.handle.read(count)
        if len(data) != count:
            raise GgufError("truncated GGUF header")
        return data

    def skip(self, count: int) -> None:
        self._advance(count)
        self.handle.seek(count, os.SEEK_CUR)

    def unpack(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.read(struct.calcsize(fmt)))[0]

    def string_length(self) -> int:
        length = int(self.unpack("<Q"))
        if length > MAX_STRING_BYTES:
            raise GgufError("corrupt GGUF header (an impossible string length)")
        return length

    def string(self) -> str | None:
        """A GGUF string; None when it is too long to be worth keeping (it is skipped)."""
        length = self.string_length()
        if length > KEPT_STRING_BYTES:
            self.skip(length)
            return None
        return self.read(length).decode("utf-8", errors="replace")

    def value(self, kind: int, depth: int = 0) -> Any:
        """One metadata value. Arrays are skipped (None): only scalars are shown, and the big
        ones (vocabulary, merges) would cost memory for nothing."""
        if kind in _SCALARS:
            return self.unpack(_SCALARS[kind])
        if kind == _STRING:
            return self.string()
        if kind == _ARRAY and depth < MAX_ARRAY_DEPTH:
            self._skip_array(depth)
            return None
        raise GgufError(f"corrupt GGUF header (value type {kind})")

    def _skip_array(self, depth: int) -> None:
        kind, count = int(self.unpack("<I")), int(self.unpack("<Q"))
        if kind in _SCALARS:
            self.skip(count * struct.calcsize(_SCALARS[kind]))  # past the cap: refused
            return
        if kind == _STRING:
            self.skip_strings(count)
            return
        for _ in range(count):  # each element moves pos forward, so the cap ends this loop
            self.value(kind, depth + 1)

    def skip_strings(self, count: int) -> None:
        """Skip ``count`` strings: a vocabulary of 250k tokens in a few big reads, walked in
        memory, rather than 250k small reads (ten times slower)."""
        unpack = _U64.unpack_from
        while count:
            chunk = self.handle.read(min(STRING_CHUNK, self.size - self.pos))
            offset, size = 0, len(chunk)
            while count and offset + 8 <= size:
                end = offset + 8 + unpack(chunk, offset)[0]
                if end > size:
                    break
                offset, count = end, count - 1
            self.handle.seek(offset - size, os.SEEK_CUR)
            if offset:
                self._advance(offset)
            else:  # the next string does not fit in a chunk: too long, or past the end
                self.skip(self.string_length())
                count -= 1


def read_header(path: Path) -> GgufHeader:
    """Read a GGUF file's header without loading the model; a ``GgufError`` says why not.

    The whole header is read (the vocabulary skipped, not kept), then the tensor list, so a
    file cut short by an interrupted download or copy is caught here, not by llama.cpp.
    """
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            header = _parse(_Reader(handle, size))
    except OSError as exc:
        raise GgufError(f"cannot read it ({exc.strerror or type(exc).__name__})") from None
    if header.data_bytes > size:
        raise GgufError(f"truncated: {size / 1e6:,.0f} of {header.data_bytes / 1e6:,.0f} MB")
    return header


def _parse(reader: _Reader) -> GgufHeader:
    if reader.size == 0:
        raise GgufError("an empty file")
    if reader.size < 4 or reader.read(4) != GGUF_MAGIC:
        raise GgufError("not a GGUF file")
    version = int(reader.unpack("<I"))
    if version not in SUPPORTED_VERSIONS:
        if version & 0xFFFF == 0 and version >> 24 in SUPPORTED_VERSIONS:
            raise GgufError("a big-endian GGUF, which this machine cannot run")
        raise GgufError(f"GGUF version {version} is not supported (2 or 3 are)")
    tensors, count = int(reader.unpack("<Q")), int(reader.unpack("<Q"))
    if tensors > MAX_TENSOR_COUNT or count > MAX_KV_COUNT:
        raise GgufError("corrupt GGUF header (impossible tensor or key count)")
    metadata: dict[str, Any] = {}
    for _ in range(count):
        key = reader.string()
        value = reader.value(int(reader.unpack("<I")))
        if key is not None and value is not None:
            metadata[key] = value
    end = max((_tensor_end(reader) for _ in range(tensors)), default=0)
    alignment = _integer(metadata.get("general.alignment")) or DEFAULT_ALIGNMENT
    if alignment & (alignment - 1):
        raise GgufError(f"corrupt GGUF header (alignment {alignment})")
    start = -(-reader.pos // alignment) * alignment
    return GgufHeader(version, tensors, metadata, start + end if tensors else 0)


def _tensor_end(reader: _Reader) -> int:
    """Where one tensor's data ends, relative to the data section (its start for a tensor
    type this table does not know)."""
    reader.skip(reader.string_length())  # the tensor's name
    dims = int(reader.unpack("<I"))
    if dims > MAX_DIMS:
        raise GgufError(f"corrupt GGUF header (a tensor of {dims} dimensions)")
    elements = 1
    for _ in range(dims):
        elements *= int(reader.unpack("<Q"))
    kind, offset = int(reader.unpack("<I")), int(reader.unpack("<Q"))
    block, size = TENSOR_TYPES.get(kind, (1, 0))
    return offset + -(-elements // block) * size


def check_chat_model(header: GgufHeader) -> None:
    """Refuse GGUF files that llama.cpp loads but that cannot chat (projectors, embedders,
    rerankers)."""
    if header.is_reranker:
        raise GgufError("a reranker (rank pooling), not a chat model: see `rag models rerankers`")
    kind = NOT_CHAT.get(header.architecture or "")
    if kind:
        raise GgufError(f"{kind} ({header.architecture}), not a chat model")
    if header.tensor_count == 0:
        raise GgufError("no tensors (a vocabulary-only GGUF)")
