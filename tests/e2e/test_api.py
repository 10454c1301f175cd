"""`rag serve` as a real process: the official `openai` client (streamed and not), the REST
endpoints over plain HTTP, errors as one-line JSON, and API keys."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai import AuthenticationError, OpenAI

from tests.support.cli import RAG
from tests.support.pdfs import COURSE_PAGES, make_pdf
from tests.support.servers import free_port, running

QUESTION = "Who founded the Lumora Observatory?"


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    return {**env, "RAG_DATA_DIR": str(tmp_path / "data"), "RAG_LLM__TEMPERATURE": "0", **extra}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = environment(tmp_path, RAG_UI__MAX_UPLOAD_MB="1")
    with running([RAG, "serve", "--port", str(port)], f"{url}/health", tmp_path / "api.log",
                 env=env, timeout_s=90):  # fmt: skip
        yield url


def one_line_error(response: httpx.Response, status: int, text: str) -> None:
    assert response.status_code == status, response.text
    message = response.json()["error"]["message"]
    assert text in message and "\n" not in message and "Traceback" not in response.text


def test_documents_then_questions_through_the_openai_client(api: str, tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "astronomy.pdf", COURSE_PAGES)
    with pdf.open("rb") as handle:
        uploaded = httpx.post(f"{api}/documents", files={"files": ("astronomy.pdf", handle)},
                              timeout=300)  # fmt: skip
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["ingested"] == [{"source": "astronomy.pdf", "pages": 3, "chunks": 3}]
    assert [d["source"] for d in httpx.get(f"{api}/documents").json()] == ["astronomy.pdf"]

    client = OpenAI(base_url=f"{api}/v1", api_key="unused-on-loopback", timeout=300)
    assert [m.id for m in client.models.list().data] == ["default"]
    reply = client.chat.completions.create(
        model="default", messages=[{"role": "user", "content": QUESTION}]
    )
    rag = (reply.model_extra or {})["rag"]
    assert reply.choices[0].message.content == rag["answer"] and rag["answer"]
    assert (rag["evidence"][0]["source"], rag["evidence"][0]["page"]) == ("astronomy.pdf", 2)

    chunks = list(client.chat.completions.create(
        model="default", stream=True,
        messages=[{"role": "user", "content": QUESTION},
                  {"role": "assistant", "content": rag["answer"]},
                  {"role": "user", "content": "How wide is the mirror of its main telescope?"}],
    ))  # fmt: skip
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    final = (chunks[-1].model_extra or {})["rag"]
    assert text.strip() and chunks[-1].choices[0].finish_reason == "stop"
    assert final["sources"][0]["page"] == 3 and "2.4 metres" in final["evidence"][0]["text"]

    asked = httpx.post(f"{api}/ask", json={"question": QUESTION, "mode": "evidence"}, timeout=300)
    assert asked.json()["mode"] == "evidence" and "Elena Vasquez" in asked.json()["answer"]

    one_line_error(httpx.post(f"{api}/ask", json={"question": " "}), 400, "the question is empty")
    one_line_error(
        httpx.post(f"{api}/v1/chat/completions",
                   json={"model": "Papers", "messages": [{"role": "user", "content": "x"}]}),
        400, "knowledge base 'Papers': not found",
    )  # fmt: skip
    one_line_error(httpx.post(f"{api}/ask", json={}), 422, "question: Field required")
    big = {"files": ("big.pdf", b"%PDF-1.7\n" + b"0" * 2_000_000)}
    one_line_error(httpx.post(f"{api}/documents", files=big), 413, "over the limit of 1 MB")

    deleted = httpx.delete(f"{api}/documents/astronomy.pdf")
    assert deleted.json() == {"deleted": "astronomy.pdf", "chunks": 3}
    one_line_error(httpx.delete(f"{api}/documents/astronomy.pdf"), 400, "not in the store")


def test_other_machines_need_a_key(tmp_path: Path) -> None:
    refused = subprocess.run([RAG, "serve", "--host", "0.0.0.0", "--port", str(free_port())],
                             env=environment(tmp_path), capture_output=True, text=True,
                             timeout=60)  # fmt: skip
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "refusing to listen on 0.0.0.0 without API keys" in refused.stderr

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = environment(tmp_path, RAG_API__KEYS=json.dumps(["a-long-secret-key"]))
    command = [RAG, "serve", "--host", "0.0.0.0", "--port", str(port)]
    with running(command, f"{url}/health", tmp_path / "api.log", env=env, timeout_s=90):
        with pytest.raises(AuthenticationError):
            OpenAI(base_url=f"{url}/v1", api_key="wrong").models.list()
        one_line_error(httpx.get(f"{url}/documents"), 401, "missing or wrong API key")
        models = OpenAI(base_url=f"{url}/v1", api_key="a-long-secret-key").models.list()
        assert [m.id for m in models.data] == ["default"]


def test_two_servers_on_one_chroma_server_see_each_others_documents(tmp_path: Path) -> None:
    """`chroma run` and two `rag serve` instances with their own data dirs (as on two
    machines): a file uploaded to A is answerable on B at once, BM25 included; deleted on A,
    it is gone from B."""
    from tests.support.servers import CHROMA

    chroma, port_a, port_b = free_port(), free_port(), free_port()
    chroma_cmd = [CHROMA, "run", "--path", str(tmp_path / "db"), "--host", "127.0.0.1",
                  "--port", str(chroma)]  # fmt: skip
    shared = {"RAG_VECTORSTORE__HOST": "127.0.0.1", "RAG_VECTORSTORE__PORT": str(chroma)}
    pdf = make_pdf(tmp_path / "astronomy.pdf", COURSE_PAGES)
    heartbeat = f"http://127.0.0.1:{chroma}/api/v2/heartbeat"
    with running(chroma_cmd, heartbeat, tmp_path / "chroma.log"):
        a_env = environment(tmp_path / "a", **shared)
        b_env = environment(tmp_path / "b", **shared)
        a, b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
        with (
            running([RAG, "serve", "--port", str(port_a)], f"{a}/health", tmp_path / "a.log",
                    env=a_env, timeout_s=90),
            running([RAG, "serve", "--port", str(port_b)], f"{b}/health", tmp_path / "b.log",
                    env=b_env, timeout_s=90),
        ):  # fmt: skip
            question = {"question": QUESTION, "mode": "evidence", "strategy": "bm25"}
            assert httpx.post(f"{b}/ask", json=question, timeout=300).status_code == 409  # empty
            with pdf.open("rb") as handle:
                up = httpx.post(f"{a}/documents", files={"files": ("astronomy.pdf", handle)},
                                timeout=300)  # fmt: skip
            assert up.json()["ingested"][0]["source"] == "astronomy.pdf"
            seen = httpx.post(f"{b}/ask", json=question, timeout=300).json()
            assert seen["evidence"][0]["source"] == "astronomy.pdf"
            assert seen["evidence"][0]["page"] == 2

            assert httpx.delete(f"{a}/documents/astronomy.pdf").status_code == 200
            assert httpx.get(f"{b}/documents").json() == []
            gone = httpx.post(f"{b}/ask", json=question, timeout=300)
            assert gone.status_code == 409, gone.text  # no documents left, on B too


QUILLON = "How many maps does the Quillon Archive hold?"
PAGES = 160  # one chunk each


def ledger_pages(n: int) -> list[str]:
    """``n`` short pages of distinct text (one chunk each), one of them stating the fact that
    QUILLON asks for: a file whose embedding takes seconds."""
    goods = ["salt", "wool", "tin", "amber", "rye", "cedar", "hemp", "copper", "figs", "tar"]
    pages = [
        f"Harbour ledger, page {i}. In the year {1600 + i} the port of Farrowgate received "
        f"{(i * 13) % 97 + 3} ships carrying {goods[i % 10]} and {goods[(i * 7 + 3) % 10]}; "
        f"the clerk {['Orrin', 'Bette', 'Calder', 'Ysolde'][i % 4]} counted {i * 31 % 500} "
        f"barrels and noted a toll of {i % 17 + 1} silver marks at the {goods[(i + 5) % 10]} gate."
        for i in range(n)
    ]
    pages[n // 2] = (
        "The Quillon Archive in Farrowgate holds exactly 4812 hand-drawn maps of the northern "
        "coast, kept in cedar drawers since the archive opened."
    )
    return pages


def test_replicas_share_one_embedding_and_take_it_over_when_its_instance_is_killed(
    tmp_path: Path,
) -> None:
    """`chroma run` and two `rag serve` instances (own data dirs, as on two machines). A long
    file uploaded to A is listed and answered by keywords on both at once; A embeds it while B
    only watches the progress; A is killed (SIGKILL) half way; once A's embed lease lapses (a
    short vectorstore.ingest_lease_s here) B's next request resumes the embedding with what is
    missing, and the store ends with one copy of every chunk, each with its vector; A,
    restarted, answers from it by meaning."""
    import signal
    import time

    from rag_app.service import RagService
    from rag_app.settings import load_settings
    from tests.support.servers import CHROMA, started
    from vectorstore import ChromaServer, ingest_lease

    chroma, port_a, port_b = free_port(), free_port(), free_port()
    chroma_cmd = [CHROMA, "run", "--path", str(tmp_path / "db"), "--host", "127.0.0.1",
                  "--port", str(chroma)]  # fmt: skip
    shared = {
        "RAG_VECTORSTORE__HOST": "127.0.0.1",
        "RAG_VECTORSTORE__PORT": str(chroma),
        "RAG_VECTORSTORE__INGEST_LEASE_S": "4",
        "RAG_EMBEDDING__BATCH_SIZE": "4",  # many batches, each written as it is done
    }
    course = make_pdf(tmp_path / "astronomy.pdf", COURSE_PAGES)
    ledger = make_pdf(tmp_path / "ledger.pdf", ledger_pages(PAGES))
    heartbeat = f"http://127.0.0.1:{chroma}/api/v2/heartbeat"
    a_env, b_env = environment(tmp_path / "a", **shared), environment(tmp_path / "b", **shared)
    a, b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"

    def serve(port: int, env: dict[str, str], log: str) -> Any:
        url = f"http://127.0.0.1:{port}"
        return started([RAG, "serve", "--port", str(port)], f"{url}/health", tmp_path / log,
                       env=env, timeout_s=90)  # fmt: skip

    def upload(url: str, path: Path, wait: bool) -> dict[str, Any]:
        with path.open("rb") as handle:
            sent = httpx.post(f"{url}/documents", files={"files": (path.name, handle)},
                              params={"wait": wait}, timeout=600)  # fmt: skip
        assert sent.status_code == 200, sent.text
        return dict(sent.json())

    def ask(url: str, strategy: str) -> dict[str, Any]:
        asked = httpx.post(
            f"{url}/ask",
            timeout=300,
            json={"question": QUILLON, "mode": "evidence", "strategy": strategy},
        )
        assert asked.status_code == 200, asked.text
        return dict(asked.json())

    def indexing(url: str) -> dict[str, Any]:
        return dict(httpx.get(f"{url}/indexing", timeout=60).json())

    def cited(answer: dict[str, Any]) -> set[str]:
        return {e["source"] for e in answer["evidence"]} | {s["source"] for s in answer["sources"]}

    with running(chroma_cmd, heartbeat, tmp_path / "chroma.log"), serve(port_b, b_env, "b.log"):
        assert upload(b, course, wait=True)["waiting_vectors"] == 0
        observer = RagService(load_settings(data_dir=tmp_path / "observer", vectorstore={
            "host": "127.0.0.1", "port": chroma}))  # fmt: skip
        store = observer.store  # reads the server's registry and chunks; loads no model
        server = ChromaServer("127.0.0.1", chroma)

        with serve(port_a, a_env, "a.log") as process_a:
            staged = upload(a, ledger, wait=False)  # back once searchable by keywords
            assert staged["ingested"] == [{"source": "ledger.pdf", "pages": PAGES,
                                           "chunks": PAGES}]  # fmt: skip
            assert staged["waiting_vectors"] > PAGES // 2
            listed = {d["source"]: d["waiting_vectors"] for d in httpx.get(f"{b}/documents").json()}
            assert listed["astronomy.pdf"] == 0 and listed["ledger.pdf"] > 0
            answer = ask(b, "bm25")  # B answers from it at once, by keywords
            assert "ledger.pdf" in cited(answer) and answer["note"]
            seen: list[float] = []
            deadline = time.monotonic() + 240
            while True:  # B watches A's progress until half the file has its vectors
                progress = indexing(b)
                seen.append(progress["share"])
                if progress["documents"].get("ledger.pdf", PAGES) <= PAGES // 2:
                    break
                assert time.monotonic() < deadline, f"A never embedded half the file: {seen}"
                time.sleep(0.1)
            holder, expires = ingest_lease(server, "documents", name="embed")._holder()
            assert holder  # A's: B never embedded meanwhile
            os.killpg(process_a.pid, signal.SIGKILL)
            process_a.wait(timeout=30)
        assert seen == sorted(seen) and 0 < seen[-1] < 1, seen
        assert expires - time.time() <= 4  # the setting's 4 s, not the default 60 s
        left = store.queue.count()
        assert 0 < left < PAGES and store.chunks.count() + left == 3 + PAGES

        deadline = time.monotonic() + 300
        while indexing(b)["waiting_vectors"]:  # B's requests resume it once the lease lapses
            assert time.monotonic() < deadline, indexing(b)
            time.sleep(0.5)
        assert store.chunks.count() == 3 + PAGES and store.queue.count() == 0
        store.sync_keyword()  # the observer's own keyword index catches up, as a search would
        assert observer.check().ok
        assert "ledger.pdf" in cited(ask(b, "similarity"))
        assert ask(b, "hybrid")["note"] is None

        with serve(port_a, a_env, "a-again.log"):  # A, restarted on its data dir
            listed = {d["source"]: d["chunks"] for d in httpx.get(f"{a}/documents").json()}
            assert listed == {"astronomy.pdf": 3, "ledger.pdf": PAGES}
            answer = ask(a, "similarity")
            assert answer["evidence"][0]["source"] == "ledger.pdf"
            assert "4812" in answer["evidence"][0]["text"]
