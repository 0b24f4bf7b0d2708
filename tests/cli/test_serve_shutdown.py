"""`newsdesk serve` stopped with SIGTERM while it is answering: the question it has accepted is
still answered (uvicorn's graceful shutdown), then the process exits 0 without a traceback.

To have a request in flight deterministically, the client sends its headers with
`Expect: 100-continue` and waits for the server's `100 Continue`: the server sends it only once
the application has taken the request and asks for its body. SIGTERM goes out then; the body
follows only once the server logs that it is shutting down, so the whole answer is composed
during the shutdown."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx

from tests.cli.process import RunningCommand, free_port, healthy, running_newsdesk, user_env

SEED = "What did Blinken say about a multinational force?"


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response (status, headers, body) read off a raw socket to its end."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += recv(sock)
    head, body = data.split(b"\r\n\r\n", 1)
    status_line, *header_lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in header_lines)}
    while len(body) < int(headers["content-length"]):
        body += recv(sock)
    return int(status_line.split()[1]), headers, body


def recv(sock: socket.socket) -> bytes:
    chunk = sock.recv(65536)
    assert chunk, "the server closed the connection without answering"
    return chunk


def stop_while_answering(server: RunningCommand, port: int, question: str) -> tuple[int, dict]:
    """SIGTERM `server` while a POST /ask of `question` is in flight: its status and JSON."""
    body = json.dumps({"question": question}).encode()
    head = (
        f"POST /ask HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode())
        assert recv(sock).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")  # the app holds it now
        server.process.terminate()  # SIGTERM
        server.wait_until(lambda: "Shutting down" in server.stderr(), timeout=30)
        sock.sendall(body)
        status, _, answer = read_response(sock)
        # A keep-alive connection stays open after an answer; this one closes: the server is
        # on its way out.
        assert sock.recv(1) == b""
    return status, json.loads(answer)


def test_serve_answers_then_finishes_the_answer_in_flight_on_sigterm(
    built_index: Path, model_cache: Path, tmp_path: Path
) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = user_env(index_dir=built_index, cache_dir=model_cache, port=port)
    with running_newsdesk("serve", env=env, log_dir=tmp_path) as server:
        server.wait_until(lambda: healthy(base_url))
        first = httpx.post(f"{base_url}/ask", json={"question": SEED}, timeout=30)
        status, in_flight = stop_while_answering(server, port, SEED)
        exit_status = server.process.wait(30)
        stderr = server.stderr()

    assert first.status_code == 200
    cited = first.json()
    assert "multinational force" in cited["answer"] and "[1]" in cited["answer"]
    assert cited["citations"][0]["source"] == "Bloomberg"
    assert status == 200, in_flight
    assert in_flight["answer"] == cited["answer"] and in_flight["citations"]
    assert exit_status == 0, stderr
    assert "Traceback" not in stderr and "Finished server process" in stderr
