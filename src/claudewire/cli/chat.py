"""``claudewire chat``: one reply to a prompt, or an interactive conversation in a terminal.

Only the reply goes to stdout; the endpoint line and the closing line (stop reason,
tokens, time to first token, tokens/s) go to stderr, and ``--quiet`` drops them. The
prompt may come from the argument, from stdin (``-``, or a pipe, appended to the
argument), any size.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import stat
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from . import endpoint, session
from .args import HelpFormatter
from .render import Spinner, closing_line, describe_error, prompt_tokens, reply_view

ENVIRONMENT = """\
environment:
  ANTHROPIC_API_KEY         key sent to the endpoint; with no key and no URL, the embedded model answers
  ANTHROPIC_BASE_URL        the endpoint (same as --base-url); talked to with no key when none is set
  ANTHROPIC_CUSTOM_HEADERS  extra request headers, one `Name: value` per line
  CLAUDEWIRE_DATA_DIR       where conversations are saved (default: the platform's user data directory)
"""


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "chat",
        help="stream a reply, or talk interactively",
        description="Stream a reply to PROMPT. With no PROMPT in a terminal, start an interactive conversation.",
        formatter_class=HelpFormatter,
        epilog=ENVIRONMENT,
    )
    parser.add_argument("prompt", nargs="?", help="the prompt; `-` reads it from stdin, and piped stdin is appended to it")
    endpoint.add_arguments(parser)
    asked = parser.add_argument_group("the request")
    asked.add_argument("--max-tokens", type=int, default=1024, help="most tokens in one reply")
    asked.add_argument("--system", help="system prompt")
    asked.add_argument("--temperature", type=float, help="sampling temperature (default: the endpoint's)")
    shown = parser.add_argument_group("output")
    shape = shown.add_mutually_exclusive_group()
    shape.add_argument("--raw", action="store_true", help="print the SSE events as `curl -N` shows them")
    shape.add_argument("--json", action="store_true", help="print the final message as JSON")
    shown.add_argument("-q", "--quiet", action="store_true", help="no endpoint line and no closing line on stderr")
    shown.add_argument("--render", action=argparse.BooleanOptionalAction, default=None,
                       help="render Markdown (needs the cli extra; default: on a terminal only)")
    saved = parser.add_argument_group("conversations")
    saved.add_argument("-c", "--continue", dest="resume", action="store_const", const="", default=None,
                       help="continue the last saved conversation")
    saved.add_argument("--conversation", dest="resume", metavar="ID", help="continue the saved conversation ID (a prefix will do)")
    saved.add_argument("--list", action="store_true", help="list saved conversations, newest first, and exit")
    parser.set_defaults(run=run)


def read_stdin_prompt(prompt: str | None) -> str | None:
    """The prompt with stdin joined in: ``-`` reads stdin, and a pipe or file on stdin is appended."""
    stdin = sys.stdin
    if prompt == "-":
        return stdin.buffer.read().decode("utf-8", "replace")
    if stdin is None or stdin.isatty():
        return prompt
    try:
        mode = os.fstat(stdin.fileno()).st_mode
    except (OSError, ValueError):
        return prompt
    if not (stat.S_ISFIFO(mode) or stat.S_ISREG(mode)):  # /dev/null, sockets: nothing was piped
        return prompt
    piped = stdin.buffer.read().decode("utf-8", "replace")
    if not piped:
        return prompt
    return f"{prompt}\n\n{piped}" if prompt else piped


def run(args: argparse.Namespace) -> int:
    if args.list:
        return list_conversations()
    interactive = args.prompt is None and sys.stdin is not None and sys.stdin.isatty()
    prompt = None if interactive else read_stdin_prompt(args.prompt)
    if not interactive and not prompt:
        return fail("no prompt: give one as an argument, pipe it on stdin, or run in a terminal to talk")
    conversation = None
    if args.resume is not None:
        conversation = session.find(args.resume or None)
        if conversation is None:
            return fail("no saved conversation to continue" if not args.resume else f"no saved conversation {args.resume!r}")
        if args.system:
            conversation.system = args.system
    try:
        with endpoint.open_endpoint(args) as (where, reason):
            if not args.quiet:
                print(f"claudewire: {where.describe(args.model, reason)}", file=sys.stderr)
            if interactive:
                from .interactive import Session

                return Session(where, args, conversation).loop()
            return one_shot(where, args, prompt or "", conversation)
    except endpoint.EndpointUnavailable as exc:
        return fail(str(exc), 2)


def fail(message: str, code: int = 1) -> int:
    print(f"claudewire: {message}", file=sys.stderr)
    return code


def list_conversations() -> int:
    found = session.saved()
    if not found:
        print(f"claudewire: no saved conversations in {session.conversations_dir()}", file=sys.stderr)
        return 0
    for _, conversation in found:
        turns = sum(1 for m in conversation.messages if m["role"] == "user")
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(conversation.created))
        print(f"{conversation.id}  {when}  {turns:>3} turns  {conversation.title}")
    return 0


def request_params(args: argparse.Namespace, messages: list[dict[str, Any]], system: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"model": args.model, "max_tokens": args.max_tokens, "messages": messages}
    if system:
        params["system"] = system
    if args.temperature is not None:
        params["temperature"] = args.temperature
    return params


@dataclass
class Turn:
    """One reply: the final message, or what arrived before an interrupt or an error."""

    message: Any
    seconds: float
    first_token_s: float | None
    interrupted: bool = False
    error: BaseException | None = None
    cancelling: threading.Thread | None = None  # the request that stops a resumable stream on the server

    @property
    def text(self) -> str:
        if self.message is None:
            return ""
        return "".join(block.text for block in self.message.content if block.type == "text")


def stream_turn(where: endpoint.Endpoint, params: dict[str, Any], view: Any) -> Turn:
    """Stream one reply into ``view``. Ctrl-C closes the stream (the server stops generating).

    The one place a reply is read, for one-shot and interactive chat alike.
    """
    from .. import APIError

    spinner = Spinner()
    started = time.monotonic()
    first: float | None = None
    stream = None
    spinner.start("waiting for the first token")
    try:
        with where.client.messages.stream(**params) as stream:
            stream.on_reconnect = lambda plan: print("\nclaudewire: reconnecting…", file=sys.stderr, flush=True)
            for text in stream.text_stream:
                if first is None:
                    first = time.monotonic() - started
                    spinner.stop()
                view.write(text)
            message = stream.get_final_message()
        return Turn(message, time.monotonic() - started, first)
    except KeyboardInterrupt:
        return Turn(_snapshot(stream), time.monotonic() - started, first, interrupted=True, cancelling=stop_on_server(stream))
    except APIError as exc:
        return Turn(exc.partial_message, time.monotonic() - started, first, error=exc)
    finally:
        spinner.stop()
        view.close()


CANCEL_GRACE = 0.5  # seconds a command that is ending gives its cancel request to go out


def stop_on_server(stream: Any) -> threading.Thread | None:
    """A resumable stream's generation outlives its reader: ask the server to stop it.

    The request goes out at once, from a thread, because the server answers only when its
    producer has stopped, which takes a moment in the middle of a prompt; Ctrl-C must not wait.
    """
    if stream is None or stream.stream_id is None:
        return None

    def cancel() -> None:
        with contextlib.suppress(Exception):  # best effort: the reply is already given up
            stream.cancel()

    thread = threading.Thread(target=cancel, daemon=True, name="claudewire-cancel")
    thread.start()
    return thread


def _snapshot(stream: Any) -> Any:
    try:
        return stream.current_message_snapshot if stream is not None else None
    except RuntimeError:  # nothing arrived yet
        return None


def one_shot(where: endpoint.Endpoint, args: argparse.Namespace, prompt: str, conversation: session.Conversation | None) -> int:
    history = list(conversation.messages) if conversation else []
    system = conversation.system if conversation else args.system
    params = request_params(args, [*history, {"role": "user", "content": prompt}], system)
    if args.raw or args.json:
        return raw_or_json(where, args, params)
    turn = stream_turn(where, params, reply_view(sys.stdout, args.render))
    if conversation is not None and turn.text:
        conversation.messages += [{"role": "user", "content": prompt}, {"role": "assistant", "content": turn.text}]
        if turn.message is not None:
            conversation.usage.input_tokens += prompt_tokens(turn.message.usage)
            conversation.usage.output_tokens += turn.message.usage.output_tokens
        conversation.save()
    if turn.error is not None:
        return fail(describe_error(turn.error, where.url))
    if not args.quiet and turn.message is not None:
        print(closing_line(turn.message, turn.first_token_s, turn.seconds, interrupted=turn.interrupted), file=sys.stderr)
    if turn.interrupted:
        print("claudewire: interrupted", file=sys.stderr)
        if turn.cancelling is not None:
            turn.cancelling.join(CANCEL_GRACE)
        return 130
    return 0


def raw_or_json(where: endpoint.Endpoint, args: argparse.Namespace, params: dict[str, Any]) -> int:
    from .. import APIError

    out = sys.stdout
    try:
        if args.raw:
            with where.client.with_options(resumable=False).messages.create(stream=True, **params) as raw:  # the plain wire
                raw.on_bytes = lambda chunk: (out.buffer.write(chunk), out.buffer.flush())
                for _ in raw:
                    pass
            return 0
        with where.client.messages.stream(**params) as stream:
            message = stream.get_final_message()
    except APIError as exc:
        return fail(describe_error(exc, where.url))
    out.write(json.dumps(message.to_dict(), indent=2, ensure_ascii=False) + "\n")
    return 0
