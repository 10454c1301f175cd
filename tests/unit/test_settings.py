from pathlib import Path

import pytest

from rag_app.errors import RagError
from rag_app.settings import load_settings


def test_defaults_are_valid(tmp_path: Path) -> None:
    s = load_settings(data_dir=tmp_path)
    assert s.retrieval.k == 4
    assert s.llm.model_path == "" and s.embedding.model == ""
    assert s.chunking.chunk_overlap < s.chunking.chunk_size


def test_env_vars_with_prefix_and_nesting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("RAG_RETRIEVAL__K", "7")
    monkeypatch.setenv("RAG_LLM__N_CTX", "2048")
    s = load_settings()
    assert s.data_dir == tmp_path / "d"
    assert s.retrieval.k == 7 and s.llm.n_ctx == 2048


def test_config_file_ranks_below_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "rag.toml"
    config.write_text('data_dir = "/tmp/x"\n[retrieval]\nk = 6\nrelevance_threshold = 0.3\n')
    monkeypatch.setenv("RAG_RETRIEVAL__K", "9")
    s = load_settings(config)
    assert s.data_dir == Path("/tmp/x")
    assert s.retrieval.relevance_threshold == 0.3
    assert s.retrieval.k == 9


def test_config_file_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "rag.toml"
    config.write_text("[chunking]\nchunk_size = 500\nchunk_overlap = 50\n")
    monkeypatch.setenv("RAG_CONFIG", str(config))
    assert load_settings().chunking.chunk_size == 500


@pytest.mark.parametrize(
    ("env", "value", "expected"),
    [
        ("RAG_RETRIEVAL__K", "zero", "setting retrieval.k"),
        ("RAG_CHUNKING__CHUNK_OVERLAP", "5000", "chunk_overlap must be smaller"),
    ],
)
def test_bad_values_give_one_line(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(RagError) as caught:
        load_settings()
    message = str(caught.value)
    assert expected in message and "\n" not in message


def test_missing_or_broken_config_file(tmp_path: Path) -> None:
    with pytest.raises(RagError, match="not found"):
        load_settings(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[retrieval\nk = 1")
    with pytest.raises(RagError, match="TOML"):
        load_settings(broken)


def test_servers_by_config_file(tmp_path: Path) -> None:
    """No server settings: embedded Chroma and the in-process model (the defaults)."""
    default = load_settings(data_dir=tmp_path)
    assert default.vectorstore.host == "" and default.llm.base_url == ""
    config = tmp_path / "rag.toml"
    config.write_text(
        '[vectorstore]\nhost = "chroma.internal"\nport = 8443\nssl = true\ntoken = "s3cret"\n'
        '[llm]\nbase_url = "http://llm.internal:8080/v1/"\napi_key = "k3y"\nmodel = "qwen"\n'
    )
    s = load_settings(config)
    assert (s.vectorstore.host, s.vectorstore.port, s.vectorstore.ssl) == (
        "chroma.internal",
        8443,
        True,
    )
    assert s.llm.base_url == "http://llm.internal:8080/v1" and s.llm.model == "qwen"
    assert "s3cret" not in repr(s) and "k3y" not in repr(s)


@pytest.mark.parametrize(
    ("env", "value", "expected"),
    [
        ("RAG_LLM__BASE_URL", "localhost:8080/v1", "setting llm.base_url"),
        ("RAG_VECTORSTORE__HOST", "http://chroma:8000", "setting vectorstore.host"),
    ],
)
def test_bad_server_settings(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(RagError, match=expected) as caught:
        load_settings()
    assert env in str(caught.value)


def test_settings_that_name_files_are_checked(tmp_path: Path) -> None:
    def error(**overrides: object) -> str:
        with pytest.raises(RagError) as caught:
            load_settings(data_dir=tmp_path / "d", **overrides)
        assert "\n" not in str(caught.value)
        return str(caught.value)

    missing = error(llm={"model_path": str(tmp_path / "none.gguf")})
    assert "none.gguf: file not found" in missing and "RAG_LLM__MODEL_PATH" in missing
    (tmp_path / "a.bin").write_bytes(b"PK\x03\x04")
    assert "not a GGUF file" in error(llm={"model_path": str(tmp_path / "a.bin")})
    (tmp_path / "folder").mkdir()
    assert "no config.json" in error(embedding={"model": str(tmp_path / "folder")})
    # A hub name is not a path: left to the embedder loader (which works offline from folders).
    assert load_settings(embedding={"model": "org/model"}).embedding.model == "org/model"


def test_unusable_data_dir_is_one_line(tmp_path: Path) -> None:
    from rag_app.service import RagService
    from tests.support.embeddings import BagOfWordsEmbeddings

    (tmp_path / "a-file").write_text("not a folder")
    settings = load_settings(data_dir=tmp_path / "a-file" / "data")
    with pytest.raises(RagError, match="cannot be used") as caught:
        RagService(settings, embeddings=BagOfWordsEmbeddings()).documents()
    assert "RAG_DATA_DIR" in str(caught.value) and "\n" not in str(caught.value)


def test_the_strategy_setting_is_validated_from_the_registry() -> None:
    from pydantic import ValidationError

    from rag_app.retrieval.strategies import STRATEGIES
    from rag_app.settings import RetrievalSettings

    assert all(RetrievalSettings(strategy=name).strategy == name for name in STRATEGIES)
    with pytest.raises(ValidationError, match="unknown strategy 'bogus'"):
        RetrievalSettings(strategy="bogus")
    description = RetrievalSettings.model_fields["strategy"].description or ""
    assert all(f"{name} (" in description for name in STRATEGIES)
