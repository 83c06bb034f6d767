"""The sans-IO protocol core: bytes -> SSE events -> typed events -> Message snapshot.

Nothing here opens a socket, starts a thread or touches asyncio; the client and the
server are shells around these pieces.
"""

from .accumulator import MessageAccumulator, State
from .errors import InvalidToolInput, MalformedEvent, ProtocolError, UnexpectedEvent, UnknownBlockIndex
from .events import decode_event
from .sse import EventTooLarge, ServerSentEvent, SSEDecoder, SSEError, encode_comment, encode_event
from .stream import EventStreamParser

__all__ = [
    "EventStreamParser",
    "EventTooLarge",
    "InvalidToolInput",
    "MalformedEvent",
    "MessageAccumulator",
    "ProtocolError",
    "SSEDecoder",
    "SSEError",
    "ServerSentEvent",
    "State",
    "UnexpectedEvent",
    "UnknownBlockIndex",
    "decode_event",
    "encode_comment",
    "encode_event",
]
