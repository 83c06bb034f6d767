"""The public types, as ``anthropic.types``: models of the API's objects and stream events."""

from .protocol.events import (
    CitationEvent,
    InputJsonEvent,
    MessageStreamEvent,
    ParsedContentBlockStopEvent,
    ParsedMessageStopEvent,
    SignatureEvent,
    TextEvent,
    ThinkingEvent,
)
from .protocol.types import *  # noqa: F403
from .protocol.types import __all__ as _model_names

__all__ = [
    *_model_names,
    "CitationEvent",
    "InputJsonEvent",
    "MessageStreamEvent",
    "ParsedContentBlockStopEvent",
    "ParsedMessageStopEvent",
    "SignatureEvent",
    "TextEvent",
    "ThinkingEvent",
]
