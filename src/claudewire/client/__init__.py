"""The client: ``Anthropic`` and ``AsyncAnthropic``, shaped like the official SDK."""

from ._async import AsyncAnthropic, DefaultAsyncHttpxClient
from ._sync import Anthropic, DefaultHttpxClient
from .streaming import AsyncMessageStream, AsyncMessageStreamManager, AsyncStream, MessageStream, MessageStreamManager, Stream

__all__ = [
    "Anthropic",
    "AsyncAnthropic",
    "AsyncMessageStream",
    "AsyncMessageStreamManager",
    "AsyncStream",
    "DefaultAsyncHttpxClient",
    "DefaultHttpxClient",
    "MessageStream",
    "MessageStreamManager",
    "Stream",
]
