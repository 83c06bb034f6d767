"""The resumable-stream relay: a generation that outlives its connection.

``producer.py`` runs a backend detached from any response and appends each event, framed
with its SSE ``id``, to a store (``memory.py`` in process, ``redis.py`` on Redis Streams);
every response, the first POST included, is only a reader of that log (``routes.py``).
``log.py`` holds the store interface and the stream states.
"""

from .log import RelayOptions
from .routes import Relay

__all__ = ["Relay", "RelayOptions"]
