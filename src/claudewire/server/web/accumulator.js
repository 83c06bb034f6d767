// Stream events folded into a Message snapshot (the page's twin of protocol/accumulator.py).
// The whole state is plain JSON, so the page can store it beside the last event id and, after
// a reload, go on folding the events that come after that id: nothing twice, nothing lost.

export class Accumulator {
  constructor(state = null) {
    this.state = state ?? { message: null, partialJson: {}, lastEventId: null, done: false, error: null };
  }

  get message() {
    return this.state.message;
  }

  /** Fold one decoded event; `id` is its SSE id (its position in a resumable stream). */
  feed(event, id = null) {
    const state = this.state;
    if (id !== null) state.lastEventId = id;
    switch (event.type) {
      case "message_start":
        state.message = { ...event.message, content: [] };
        break;
      case "content_block_start": {
        const block = { ...event.content_block };
        if (block.type === "tool_use" || block.type === "server_tool_use") state.partialJson[event.index] = "";
        this.content()[event.index] = block;
        break;
      }
      case "content_block_delta":
        this.delta(this.block(event.index), event.index, event.delta);
        break;
      case "content_block_stop": {
        const json = state.partialJson[event.index];
        if (json) this.block(event.index).input = JSON.parse(json);
        delete state.partialJson[event.index];
        break;
      }
      case "message_delta":
        Object.assign(this.requireMessage(), event.delta);
        state.message.usage = { ...state.message.usage, ...dropNulls(event.usage) };
        break;
      case "message_stop":
        state.done = true;
        break;
      case "error":
        state.error = event.error;
        break;
      default: // ping, and event types this page does not know yet
        break;
    }
  }

  delta(block, index, delta) {
    switch (delta.type) {
      case "text_delta":
        block.text = (block.text ?? "") + delta.text;
        break;
      case "thinking_delta":
        block.thinking = (block.thinking ?? "") + delta.thinking;
        break;
      case "signature_delta":
        block.signature = delta.signature;
        break;
      case "input_json_delta":
        this.state.partialJson[index] = (this.state.partialJson[index] ?? "") + delta.partial_json;
        break;
      case "citations_delta":
        (block.citations ??= []).push(delta.citation);
        break;
      default:
        break;
    }
  }

  requireMessage() {
    if (!this.state.message) throw new Error("stream event before message_start");
    return this.state.message;
  }

  content() {
    return this.requireMessage().content;
  }

  block(index) {
    const block = this.content()[index];
    if (!block) throw new Error(`delta for content block ${index}, which never started`);
    return block;
  }
}

function dropNulls(object) {
  return Object.fromEntries(Object.entries(object ?? {}).filter(([, value]) => value !== null));
}
