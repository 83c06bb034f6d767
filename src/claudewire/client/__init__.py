"""The client: ``Anthropic`` and ``AsyncAnthropic``, shaped like the official SDK."""

from ._async import AsyncAnthropic
from ._sync import Anthropic
from .streaming import AsyncMessageStream, AsyncStream, MessageStream, Stream

__all__ = ["Anthropic", "AsyncAnthropic", "AsyncMessageStream", "AsyncStream", "MessageStream", "Stream"]
