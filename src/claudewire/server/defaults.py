"""Default limits, importable without the server's dependencies (the CLI's --help shows them)."""

HEADER_TIMEOUT = 10.0  # seconds for a request line and headers to arrive
LIMIT_CONCURRENCY = 2048  # connections or requests in flight before a 529
MAX_BODY_BYTES = 32 * 1024 * 1024  # the API's own limit for Messages requests
BODY_TIMEOUT = 60.0  # seconds for the whole body, once the headers are in
