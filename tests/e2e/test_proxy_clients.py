"""Real clients through the proxy: the same checks the suite runs against the server directly.

The proxy (``--backend proxy``) stands in front of the scripted server and of the local
model; the TypeScript SDK, Vercel's AI SDK, LiteLLM and the official SDK must not see the
difference. The offline example (``examples/offline_tests``) runs as a user would run it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import anthropic
import pytest

from claudewire.server.proxy.backend import ProxyBackend
from claudewire.server.run import ServerThread

from . import test_litellm, test_node_clients

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
node_clients = test_node_clients.node_clients  # the fixture (npm ci on first use), shared with the direct tests


@pytest.fixture(scope="module")
def proxied_scripted(scripted_server):
    with ServerThread(ProxyBackend(upstream=scripted_server.base_url, retries=0)) as proxy:
        yield proxy


def test_typescript_sdk_through_the_proxy(node_clients, proxied_scripted) -> None:
    test_node_clients.test_typescript_sdk(node_clients, proxied_scripted)


def test_vercel_ai_sdk_through_the_proxy(node_clients, proxied_scripted) -> None:
    test_node_clients.test_vercel_ai_sdk(node_clients, proxied_scripted)


def test_litellm_through_the_proxy(proxied_scripted) -> None:
    test_litellm.test_litellm(proxied_scripted)


def test_official_sdk_through_the_proxy_to_the_local_model(local_server) -> None:
    with ServerThread(ProxyBackend(upstream=local_server.base_url)) as proxy:
        client = anthropic.Anthropic(base_url=proxy.base_url, api_key="k", max_retries=0)
        with client.messages.stream(model="claude-sonnet-4-6", max_tokens=12, messages=[{"role": "user", "content": "Say hello."}],
                                    extra_body={"temperature": 0}) as stream:
            text = "".join(stream.text_stream)
            message = stream.get_final_message()
        assert text and message.content[0].text == text and message.usage.output_tokens >= 1
        assert message.model == "claude-sonnet-4-6"


def test_the_offline_example_runs_with_no_network_and_no_key() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "CLAUDEWIRE_UPSTREAM_API_KEY")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLES / "offline_tests")],
                          capture_output=True, text=True, env=env, timeout=120, cwd=EXAMPLES / "offline_tests")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "3 passed" in done.stdout


def test_the_fixture_records_then_replays(scripted_server, tmp_path) -> None:
    """`pytest --claudewire-record` through the fixture, then the same test offline from what it wrote."""
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["claudewire.pytest_plugin"]\n')
    (tmp_path / "test_user.py").write_text(
        "import anthropic\n\n"
        "def test_echo(claudewire_replay):\n"
        "    with anthropic.Anthropic().messages.stream(model='claude-sonnet-4-6', max_tokens=50,\n"
        "            messages=[{'role': 'user', 'content': 'recorded once'}]) as stream:\n"
        "        assert ''.join(stream.text_stream) == 'recorded once'\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL")}
    folder = tmp_path / "tapes"

    def pytest_run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", f"claudewire_cassettes={folder}", *args],
                              capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)

    recorded = pytest_run("--claudewire-record", "--claudewire-upstream", scripted_server.base_url)
    assert recorded.returncode == 0 and "1 passed" in recorded.stdout, recorded.stdout[-2000:]
    assert [p.name.startswith("messages-recorded-once-") for p in folder.iterdir()] == [True]
    replayed = pytest_run()  # replay mode: the fixture answers from the folder alone
    assert replayed.returncode == 0 and "1 passed" in replayed.stdout, replayed.stdout[-2000:]
