"""``claudewire serve`` as an operator sees it: start-up failures, the access log, /health and /metrics."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families

from claudewire.server.backends.scripted import ScriptedBackend
from claudewire.server.run import ServerThread

SERVE = [sys.executable, "-m", "claudewire.cli", "serve"]
HEADERS = {"anthropic-version": "2023-06-01", "content-type": "application/json"}


def test_every_start_up_failure_is_one_line_and_a_documented_exit(tmp_path: Path) -> None:
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "uvicorn.py").write_text("raise ImportError('hidden for this test', name='uvicorn')\n")
    (tmp_path / "broken.gguf").write_bytes(b"not a model")
    busy = socket.create_server(("127.0.0.1", 0))
    busy_port = busy.getsockname()[1]
    cases = {
        # arguments, extra PYTHONPATH, exit status, what the one line says
        "no server extra": ([], hidden, 2, "pip install 'claudewire[server]'"),
        "model file missing": (["--port", "0", "--model-file", str(tmp_path / "none.gguf")], None, 2, "Model path does not exist"),
        "model file corrupt": (["--port", "0", "--model-file", str(tmp_path / "broken.gguf")], None, 2, "Failed to load model from file"),
        "port in use": (["--backend", "scripted", "--port", str(busy_port)], None, 1, f"port {busy_port} on 127.0.0.1 is already in use"),
        "invalid port": (["--port", "70000"], None, 2, "argument --port: 70000 is not between 0 and 65535"),
        "invalid log level": (["--log-level", "loud"], None, 2, "argument --log-level: invalid choice: 'loud'"),
        "key twice": (["--api-key", "k", "--api-key-file", "f"], None, 2, "not allowed with argument"),
        "model file, not local": (["--backend", "scripted", "--model-file", "m.gguf"], None, 2, "--model-file is for the local backend"),
        "no workers": (["--workers", "0"], None, 2, "must be at least 1"),
        "key file missing": (["--backend", "scripted", "--api-key-file", str(tmp_path / "nokey")], None, 2, "cannot read --api-key-file"),
    }
    running = {}
    for name, (args, path, _, _) in cases.items():  # all at once: each is a Python start-up
        env = dict(os.environ)
        if path is not None:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(path), env.get("PYTHONPATH")]))
        running[name] = subprocess.Popen([*SERVE, *args], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True)
    try:
        for name, process in running.items():
            out, err = process.communicate(timeout=120)
            _, _, status, says = cases[name]
            assert (process.returncode, out, err.count("\n")) == (status, "", 1), (name, err)
            assert says in err and "serving" not in err, (name, err)
    finally:
        busy.close()


@pytest.fixture()
def served(tmp_path: Path):
    """A real ``serve`` process (scripted backend, faults on, JSON access log, key from a file)."""
    key_file = tmp_path / "key"
    key_file.write_text("sk-ant-operator-secret\n")
    log = (tmp_path / "stderr").open("w+")
    process = subprocess.Popen([*SERVE, "--backend", "scripted", "--faults", "--port", "0", "--log-format", "json",
                                "--api-key-file", str(key_file)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while not (found := re.search(r"serving claudewire-scripted \(scripted\) on (http://\S+)", Path(log.name).read_text())):
            assert process.poll() is None and time.monotonic() < deadline, Path(log.name).read_text()
            time.sleep(0.05)
        yield found.group(1), process, Path(log.name)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(30)
        log.close()


def body(text: str, **extra) -> dict:
    return {"model": "claude-sonnet-4-6", "max_tokens": 50, "stream": True, "messages": [{"role": "user", "content": text}], **extra}


def metric(url: str, name: str, **labels: str) -> float:
    families = text_string_to_metric_families(httpx2.get(url + "/metrics").text)  # no key needed
    return sum(sample.value for family in families for sample in family.samples
               if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()))


def test_access_log_tells_every_outcome_and_metrics_follow(served) -> None:
    url, process, stderr = served
    health = httpx2.get(url + "/health")
    assert health.status_code == 200 and health.json() == {"status": "ok", "model": "claudewire-scripted"}
    assert metric(url, "claudewire_requests_total", route="/v1/messages") == 0
    key = {**HEADERS, "x-api-key": "sk-ant-operator-secret"}
    with httpx2.Client(base_url=url, timeout=30) as client:
        assert client.post("/v1/messages", json=body("a b c"), headers=key).text.endswith("message_stop\"}\n\n")
        in_band = client.post("/v1/messages", json=body("a b c"), headers={**key, "x-claudewire-fault": "error_after=1"})
        assert in_band.status_code == 200 and "event: error" in in_band.text
        cut = client.post("/v1/messages", json=body("a b c"), headers={**key, "x-claudewire-fault": "disconnect_after=1"})
        assert cut.status_code == 200 and "message_stop" not in cut.text
        with client.stream("POST", "/v1/messages", json=body(" ".join(["w"] * 500)), headers={**key, "x-claudewire-delay-ms": "20"}) as slow:
            for chunk in slow.iter_bytes():  # the client leaves after the first token (TCP_NODELAY: bytes come event by event)
                if b"text_delta" in chunk:
                    break
        assert client.post("/v1/messages", json=body("a", stream=False), headers=HEADERS).status_code == 401
        plain = client.post("/v1/messages", json=body("a b", stream=False), headers=key)
        assert plain.status_code == 200
    # ANTHROPIC_BASE_URL without a key: chat talks to that URL with no key (never to the embedded model)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    chat = subprocess.run([sys.executable, "-m", "claudewire.cli", "chat", "hi"], env={**env, "ANTHROPIC_BASE_URL": url},
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    said, error = chat.stderr.splitlines()
    assert chat.returncode == 1 and chat.stdout == "" and said == f"claudewire: asking claude-sonnet-4-6 at {url} (ANTHROPIC_BASE_URL, no key)"
    assert error.startswith("claudewire: AuthenticationError: x-api-key header is required (status 401, request-id req_")
    deadline = time.monotonic() + 30  # the departed client's request ends when the server notices
    while metric(url, "claudewire_requests_total", route="/v1/messages") < 7 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert metric(url, "claudewire_requests_total", route="/v1/messages") == 7, httpx2.get(url + "/metrics").text
    assert metric(url, "claudewire_requests_total", route="/v1/messages", status="200", outcome="completed") == 2
    assert metric(url, "claudewire_requests_total", route="/v1/messages", status="200", outcome="error") == 1
    assert metric(url, "claudewire_requests_total", route="/v1/messages", status="200", outcome="cut") == 1
    assert metric(url, "claudewire_requests_total", route="/v1/messages", status="200", outcome="disconnected") == 1
    assert metric(url, "claudewire_requests_total", route="/v1/messages", status="401", outcome="error") == 2
    assert metric(url, "claudewire_output_tokens_total") == 3 + 2  # as the message_delta events counted them
    assert metric(url, "claudewire_time_to_first_token_seconds_count") >= 4
    assert metric(url, "claudewire_active_streams") == 0 and metric(url, "claudewire_queued_requests") == 0

    process.send_signal(signal.SIGINT)
    process.wait(30)
    text = stderr.read_text()
    assert "sk-ant-operator-secret" not in text and "Traceback" not in text
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    messages = [line for line in lines if line["path"] == "/v1/messages"]
    seen = [(m["status"], m["outcome"], m["error_type"], m["streamed"]) for m in messages]
    assert sorted(seen, key=str) == sorted([  # in the order they ended: the departed client's may come later
        (200, "completed", None, True),
        (200, "error", "overloaded_error", True),  # failed after its 200: not a success
        (200, "cut", None, True),
        (200, "disconnected", None, True),
        (401, "error", "authentication_error", False),
        (200, "completed", None, False),
        (401, "error", "authentication_error", False),  # the chat without a key
    ], key=str)
    first = messages[0]
    assert first["request_id"].startswith("req_") and first["model"] == "claude-sonnet-4-6" and first["method"] == "POST"
    assert (first["input_tokens"], first["output_tokens"]) == (3, 3) and 0 < first["ttfb_s"] <= first["ttft_s"] <= first["duration_s"]
    (plain,) = [m for m in messages if m["status"] == 200 and not m["streamed"]]
    assert (plain["input_tokens"], plain["output_tokens"]) == (2, 2)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["time"])


def test_text_access_log_line(caplog: pytest.LogCaptureFixture) -> None:
    with ServerThread(ScriptedBackend(), faults=True, access_log="text") as server, caplog.at_level(logging.INFO, "claudewire.access"):
        httpx2.post(server.base_url + "/v1/messages", json=body("a b"), headers={**HEADERS, "x-claudewire-fault": "error_after=1"})
        deadline = time.monotonic() + 10
        while not [r for r in caplog.records if r.name == "claudewire.access"] and time.monotonic() < deadline:
            time.sleep(0.02)
    # only the access log: an earlier test may have left httpx2's loggers at DEBUG
    (line,) = [r.getMessage() for r in caplog.records if r.name == "claudewire.access"]
    assert re.fullmatch(r"\S+Z req_\w+ POST /v1/messages 200 error\(overloaded_error\) model=claude-sonnet-4-6 stream=yes "
                        r"tokens=2/- ttfb=[\d.]+s ttft=[\d.]+s duration=[\d.]+s", line), line


@pytest.mark.local
def test_health_says_the_local_model_is_loaded(local_server) -> None:
    health = httpx2.get(local_server.base_url + "/health").json()
    assert health == {"status": "ok", "model": "smollm2-135m-instruct", "model_loaded": True, "generating": 0, "queued": 0,
                      "slots": 8}
