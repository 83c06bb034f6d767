"""Prometheus metrics (``prometheus-client``), one registry per app, served at ``GET /metrics``.

With several workers each process counts its own requests; a scrape reaches one of them.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

from .record import RequestRecord

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
RATE_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000)


class Metrics:
    def __init__(self, backend: Any) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("claudewire_requests", "Requests by route, status and outcome",
                                ["route", "status", "outcome"], registry=registry)
        self.active_streams = Gauge("claudewire_active_streams", "Streamed responses in progress", registry=registry)
        queued = Gauge("claudewire_queued_requests", "Requests waiting for a slot of the local model", registry=registry)
        queued.set_function(lambda: float(getattr(backend, "queued", 0)))
        cached = Gauge("claudewire_prompt_cache_bytes", "KV states of the local model held in host memory", registry=registry)
        cached.set_function(lambda: float(getattr(backend, "prompt_cache_bytes", 0)))
        restored = Gauge("claudewire_prompt_cache_restores", "Prompts whose KV state came back from host memory",
                         registry=registry)
        restored.set_function(lambda: float(getattr(backend, "prompt_cache_restores", 0)))
        self.time_to_first_token = Histogram("claudewire_time_to_first_token_seconds", "Time from request to the first text delta",
                                             buckets=LATENCY_BUCKETS, registry=registry)
        self.tokens_per_second = Histogram("claudewire_output_tokens_per_second", "Output tokens per second after the first token",
                                           buckets=RATE_BUCKETS, registry=registry)
        self.duration = Histogram("claudewire_request_duration_seconds", "Time from request to the end of its response",
                                  ["route"], buckets=LATENCY_BUCKETS, registry=registry)
        self.output_tokens = Counter("claudewire_output_tokens", "Output tokens generated", registry=registry)
        self.input_tokens = Counter("claudewire_input_tokens", "Input tokens processed", registry=registry)

    def stream_started(self) -> None:
        self.active_streams.inc()

    def stream_ended(self) -> None:
        self.active_streams.dec()

    def observe(self, record: RequestRecord) -> None:
        if record.route == "/metrics":
            return  # scrapes are not traffic
        self.requests.labels(record.route, str(record.status or 0), record.outcome or "unknown").inc()
        if record.ended is not None:
            self.duration.labels(record.route).observe(record.ended)
        if record.first_token is not None:
            self.time_to_first_token.observe(record.first_token)
        rate = record.tokens_per_second
        if rate is not None:
            self.tokens_per_second.observe(rate)
        if record.output_tokens:
            self.output_tokens.inc(record.output_tokens)
        if record.input_tokens:
            self.input_tokens.inc(record.input_tokens)

    async def route(self, request: Request) -> Response:
        return Response(generate_latest(self.registry), headers={"content-type": CONTENT_TYPE_LATEST})
