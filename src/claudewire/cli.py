"""The ``claudewire`` command: ``serve`` a Messages API, or ``chat`` with a streamed reply.

``chat`` always goes the real way: SSE over HTTP through the client. With
ANTHROPIC_API_KEY set it talks to ANTHROPIC_BASE_URL (or the API); without one it starts
the embedded local model on a loopback port and talks to that.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from contextlib import ExitStack
from typing import Any

DEFAULT_MODEL = "claude-sonnet-4-6"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="claudewire", description="Stream Claude Messages API responses end to end.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run a Messages API server")
    serve.add_argument("--backend", default="local", choices=["local", "scripted"])
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--api-key", default=None, help="require this key (default: env CLAUDEWIRE_SERVER_API_KEY; none: any key)")
    serve.add_argument("--ping-interval", type=float, default=10.0, metavar="SECONDS")
    serve.add_argument("--faults", action="store_true", help="honour x-claudewire-fault headers")
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--log-level", default="info")
    local = serve.add_argument_group("local backend")
    local.add_argument("--threads", type=int, default=None, help="threads per decode step (default: the physical cores)")
    local.add_argument("--threads-batch", type=int, default=None, help="threads for prompt processing (default: --threads)")
    local.add_argument("--parallel", type=int, default=4, help="requests generated at once, one KV sequence each")
    local.add_argument("--max-queue", type=int, default=None, help="waiting requests before 529 overloaded (default: 4 × --parallel)")
    local.add_argument("--ctx-size", type=int, default=8192, help="context window per request, in tokens")

    chat = commands.add_parser("chat", help="stream a reply to PROMPT")
    chat.add_argument("prompt")
    chat.add_argument("--model", default=None)
    chat.add_argument("--max-tokens", type=int, default=1024)
    chat.add_argument("--system", default=None)
    chat.add_argument("--temperature", type=float, default=None)
    shown = chat.add_mutually_exclusive_group()
    shown.add_argument("--raw", action="store_true", help="print the SSE events as `curl -N` shows them")
    shown.add_argument("--json", action="store_true", help="print the final message as JSON")

    args = parser.parse_args(argv)
    try:
        return serve_command(args) if args.command == "serve" else chat_command(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader left (`| head`): not an error worth a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def fail(message: str, code: int = 1) -> int:
    print(f"claudewire: {message}", file=sys.stderr)
    return code


def serve_command(args: argparse.Namespace) -> int:
    from .server.backends.registry import BackendUnavailable, load_backend

    api_key = args.api_key or os.environ.get("CLAUDEWIRE_SERVER_API_KEY") or None
    options = {"ping_interval": args.ping_interval, "faults": args.faults}
    backend_options = {} if args.backend != "local" else {
        "n_threads": args.threads, "n_threads_batch": args.threads_batch, "parallel": args.parallel,
        "max_queue": args.max_queue, "n_ctx": args.ctx_size,
    }
    import uvicorn

    if args.workers > 1:
        from .server.factory import ENV

        os.environ[ENV] = json.dumps({"backend": args.backend, "backend_options": backend_options, **options})
        if api_key:
            os.environ["CLAUDEWIRE_SERVER_API_KEY"] = api_key
        uvicorn.run("claudewire.server.factory:app_from_env", factory=True, host=args.host, port=args.port,
                    workers=args.workers, log_level=args.log_level)
        return 0
    try:
        backend = load_backend(args.backend, **backend_options)
    except BackendUnavailable as exc:
        return fail(str(exc), 2)
    from .server.app import create_app

    print(f"claudewire: serving {backend.model.id} on http://{args.host}:{args.port}", file=sys.stderr)
    from .server.run import make_server

    make_server(create_app(backend, api_key=api_key, **options), host=args.host, port=args.port, log_level=args.log_level).run()
    return 0


def chat_command(args: argparse.Namespace) -> int:
    from . import Anthropic, APIError

    params: dict[str, Any] = {
        "model": args.model or DEFAULT_MODEL,
        "max_tokens": args.max_tokens,
        "messages": [{"role": "user", "content": args.prompt}],
    }
    if args.system:
        params["system"] = args.system
    if args.temperature is not None:
        params["temperature"] = args.temperature
    with ExitStack() as stack:
        if os.environ.get("ANTHROPIC_API_KEY"):
            client = Anthropic()
        else:
            try:
                base_url, model_name = stack.enter_context(_embedded_server())
            except RuntimeError as exc:
                return fail(str(exc), 2)
            print(f"claudewire: no ANTHROPIC_API_KEY set; answering with the embedded local model {model_name}", file=sys.stderr)
            client = Anthropic(base_url=base_url, api_key="embedded")
        stack.callback(client.close)
        out = sys.stdout
        try:
            if args.raw:
                raw = client.messages.create(stream=True, **params)
                stack.callback(raw.close)
                raw.on_bytes = lambda chunk: (out.buffer.write(chunk), out.flush())
                for _ in raw:
                    pass
                return 0
            with client.messages.stream(**params) as stream:
                try:
                    for text in stream.text_stream:
                        if not args.json:
                            out.write(text)
                            out.flush()
                except KeyboardInterrupt:
                    stream.close()
                    print("\nclaudewire: interrupted", file=sys.stderr)
                    return 130
                message = stream.get_final_message()
        except APIError as exc:
            if not args.json and not args.raw:
                out.write("\n")
            return fail(f"{type(exc).__name__}: {exc.message}")
        if args.json:
            out.write(json.dumps(message.to_dict(), indent=2, ensure_ascii=False) + "\n")
        else:
            usage = message.usage
            out.write(f"\n---\nStop reason: {message.stop_reason} | input tokens: {usage.input_tokens} | output tokens: {usage.output_tokens}\n")
        return 0


def _embedded_server() -> Any:
    """The local model behind a real server on a free loopback port."""
    from contextlib import contextmanager

    @contextmanager
    def run() -> Any:
        try:
            from .server.backends.registry import BackendUnavailable, load_backend
            from .server.run import ServerThread
        except ImportError as exc:
            raise RuntimeError(f"the embedded model needs the server extra ({exc.name}): pip install 'claudewire[local]'") from None
        try:
            backend = load_backend("local")
        except BackendUnavailable as exc:
            raise RuntimeError(str(exc)) from None
        with ServerThread(backend) as server:
            yield server.base_url, backend.model.id

    return run()


if __name__ == "__main__":
    sys.exit(main())
