// Server-sent events, decoded as the WHATWG spec says (the same rules as protocol/sse.py):
// CR, LF and CRLF end lines (a CRLF split across two chunks counts once), a leading BOM is
// dropped, comment lines are ignored, `id` without a NUL sets the last event id. Sans-IO:
// feed() text in, get finished events out; the caller owns the bytes and the network.

export class SSEDecoder {
  constructor() {
    this.buffer = "";
    this.skipLF = false;
    this.started = false;
    this.lastId = null;
    this.reset();
  }

  reset() {
    this.type = "";
    this.data = [];
  }

  /** Text in, a list of {event, data, id} out (id: the last event id seen, or null). */
  feed(text) {
    if (!this.started && text) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.skipLF && text[0] === "\n") text = text.slice(1);
    this.skipLF = false;
    this.buffer += text;
    const events = [];
    let start = 0;
    for (;;) {
      const cr = this.buffer.indexOf("\r", start);
      const lf = this.buffer.indexOf("\n", start);
      if (cr < 0 && lf < 0) break;
      const end = cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf);
      const line = this.buffer.slice(start, end);
      start = end + 1;
      if (this.buffer[end] === "\r") {
        if (end + 1 === this.buffer.length) this.skipLF = true;
        else if (this.buffer[end + 1] === "\n") start += 1;
      }
      const event = this.line(line);
      if (event) events.push(event);
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  line(line) {
    if (line === "") {
      if (this.data.length === 0) {
        this.type = "";
        return null;
      }
      const event = { event: this.type || "message", data: this.data.join("\n"), id: this.lastId };
      this.type = "";
      this.data = [];
      return event;
    }
    if (line[0] === ":") return null;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value[0] === " ") value = value.slice(1);
    if (field === "event") this.type = value;
    else if (field === "data") this.data.push(value);
    else if (field === "id" && !value.includes("\0")) this.lastId = value;
    return null;
  }
}
