"""The interactive conversation: a prompt, streamed turns, and a few slash commands.

Every turn sends the whole history. Ctrl-C during a reply closes its stream (the server
stops generating) and keeps what arrived in the history; Ctrl-C or Ctrl-D at the prompt
exits. The conversation is saved after every turn (see ``session``).
"""

from __future__ import annotations

import argparse
import sys

from . import session
from .chat import request_params, stream_turn
from .endpoint import Endpoint
from .render import closing_line, describe_error, prompt_tokens, reply_view

HELP = '''\
  /help            this list
  /exit, /quit     leave (so do Ctrl-D, and Ctrl-C at the prompt)
  /new, /clear     start a new conversation (this one stays saved)
  /system [TEXT]   show the system prompt, or set it (`/system -` clears it)
  /usage           tokens used so far in this conversation
  /list            saved conversations
  """              start a multi-line message; a line of """ ends it
  Ctrl-C during a reply stops it and keeps what arrived.'''

PROMPT, MORE = ">>> ", "... "


class Session:
    def __init__(self, where: Endpoint, args: argparse.Namespace, conversation: session.Conversation | None) -> None:
        self.where = where
        self.args = args
        self.conversation = conversation or session.Conversation.new(args.model, args.system)
        try:
            import readline  # noqa: F401  (line editing and history for input())
        except ImportError:
            pass

    def loop(self) -> int:
        note("type /help for commands, Ctrl-D to leave")
        if self.conversation.messages:
            note(f"continuing {self.conversation.id} ({len(self.conversation.messages)} messages)")
        while True:
            try:
                text = self.read_message()
            except (EOFError, KeyboardInterrupt):
                print(file=sys.stderr)
                return 0
            if text is None:
                continue
            if text.startswith("/"):
                if self.command(text) == "exit":
                    return 0
                continue
            try:
                self.turn(text)
            except KeyboardInterrupt:  # between the reply and the prompt: the turn is over anyway
                print(file=sys.stderr)

    def read_message(self) -> str | None:
        """One message: a line, or a \"\"\"-delimited block (Ctrl-C inside a block drops it)."""
        line = input(PROMPT)
        if line.strip() != '"""':
            return line.strip() or None
        lines: list[str] = []
        try:
            while (more := input(MORE)).strip() != '"""':
                lines.append(more)
        except KeyboardInterrupt:
            print(file=sys.stderr)
            return None
        return "\n".join(lines).strip() or None

    def command(self, text: str) -> str | None:
        name, _, rest = text.partition(" ")
        rest = rest.strip()
        if name in ("/exit", "/quit", "/bye"):
            return "exit"
        if name in ("/new", "/clear"):
            self.conversation = session.Conversation.new(self.args.model, self.conversation.system)
            note("new conversation")
        elif name == "/system":
            if rest:
                self.conversation.system = None if rest == "-" else rest
            note(f"system prompt: {self.conversation.system!r}" if self.conversation.system else "no system prompt")
        elif name == "/usage":
            usage = self.conversation.usage
            turns = sum(1 for m in self.conversation.messages if m["role"] == "user")
            note(f"{turns} turns, {usage.input_tokens} input and {usage.output_tokens} output tokens")
        elif name == "/list":
            for _, saved in session.saved()[:20]:
                note(f"{saved.id}  {saved.title}")
        elif name == "/help":
            print(HELP, file=sys.stderr)
        else:
            note(f"unknown command {name}; /help lists them")
        return None

    def turn(self, text: str) -> None:
        conversation = self.conversation
        messages = [*conversation.messages, {"role": "user", "content": text}]
        params = request_params(self.args, messages, conversation.system)
        result = stream_turn(self.where, params, reply_view(sys.stdout, self.args.render))
        if result.message is not None:
            conversation.usage.input_tokens += prompt_tokens(result.message.usage)
            conversation.usage.output_tokens += result.message.usage.output_tokens
        if result.text:  # what arrived stays in the history, interrupted or not
            conversation.messages = [*messages, {"role": "assistant", "content": result.text}]
            conversation.save()
        if result.error is not None:
            note(describe_error(result.error, self.where.url))
        elif result.message is not None and not self.args.quiet:
            note(closing_line(result.message, result.first_token_s, result.seconds, interrupted=result.interrupted))
        elif result.interrupted:
            note("interrupted")


def note(text: str) -> None:
    print(f"claudewire: {text}" if not text.startswith(" ") else text, file=sys.stderr)


