"""A minimal HTTP/1.1 server that answers every POST with one pre-generated SSE body.

Run as a subprocess by the HTTP benchmarks so that serving costs nothing in the measuring
process: ``python bench/body_server.py PORT KIND`` (KIND: text | tool3 | tool12).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from bodies import text_body, tool_body  # noqa: E402

BODIES = {
    "text": lambda: text_body(20_000),
    "tool3": lambda: tool_body(3_000_000, 20_000),
    "tool12": lambda: tool_body(12_000_000, 80_000),
}


async def main(port: int) -> None:
    bodies = {name: make() for name, make in BODIES.items()}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split()[1]
                length = next((int(l.split(":")[1]) for l in lines if l.lower().startswith("content-length")), 0)
                await reader.readexactly(length)
                body = bodies[path.split("/bodies/")[1].split("/")[0]] if "/bodies/" in path else bodies["text"]
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\nrequest-id: req_bench\r\n"
                             b"content-length: %d\r\n\r\n" % len(body))
                for i in range(0, len(body), 16384):
                    writer.write(body[i : i + 16384])
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
