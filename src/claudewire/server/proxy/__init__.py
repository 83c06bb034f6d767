"""Pass-through backends: the proxy (an upstream Messages API) and, in ``..cassettes``, replay.

A pass-through backend answers with an upstream reply (status, headers, raw bytes) that
the server forwards as it is, event by event; the server's own features (faults,
resumable streams) read it as events only when a request asks for them.
"""
