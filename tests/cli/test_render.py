"""The one-line error and the closing line, on real exception and message objects."""

from __future__ import annotations

from claudewire._exceptions import APIConnectionError, make_status_error
from claudewire.cli.render import closing_line, describe_error
from claudewire.protocol._model import from_builtins
from claudewire.protocol.types import Message


def test_errors_become_one_line_whatever_the_body() -> None:
    api = make_status_error(429, {"type": "error", "error": {"type": "rate_limit_error", "message": "Slow down"}}, request_id="req_1")
    assert describe_error(api) == "RateLimitError: Slow down (status 429, request-id req_1)"
    html = make_status_error(502, "<html>\n  <body>Bad gateway</body>\n</html>\n")  # a proxy's page, not the API's JSON
    assert describe_error(html) == "InternalServerError: <html> <body>Bad gateway</body> </html> (status 502)"
    huge = describe_error(make_status_error(500, "x " * 1000))
    assert "\n" not in huge and len(huge) < 350 and huge.endswith("… (status 500)")
    assert describe_error(APIConnectionError("Connection error."), "http://h:1") == "APIConnectionError: Connection error. (url: http://h:1)"


def test_closing_line() -> None:
    message = from_builtins(Message, {"id": "m", "type": "message", "role": "assistant", "model": "x", "content": [],
                                 "stop_reason": "max_tokens", "stop_sequence": None,
                                 "usage": {"input_tokens": 12, "output_tokens": 21}})
    assert closing_line(message, 0.5, 2.5) == "max_tokens · 12 in / 21 out tokens · first token 0.50 s · 10.0 tokens/s · 2.50 s"
    assert closing_line(message, None, 0.1, interrupted=True) == "interrupted · 12 in / 21 out tokens · 0.10 s"
    cached = from_builtins(Message, {"id": "m", "type": "message", "role": "assistant", "model": "x", "content": [],
                                "stop_reason": "end_turn", "stop_sequence": None,
                                "usage": {"input_tokens": 10, "cache_read_input_tokens": 24, "output_tokens": 3}})
    assert closing_line(cached, None, 0.1) == "end_turn · 34 in (24 cached) / 3 out tokens · 0.10 s"  # the whole prompt, and its cached part
