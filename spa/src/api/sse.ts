// A reader of text/event-stream (server-sent events, as the HTML standard's "Interpreting an event stream"
// defines it) over a fetch() body, for what EventSource cannot do: send an Authorization header.
// Lines end in CRLF, LF or CR; "field: value" (one space after the colon dropped); a line starting with ":"
// is a comment (the server's keep-alives); an empty line dispatches the event. data lines add up, joined by
// "\n"; id persists from one event to the next; retry sets the reconnection delay; other fields are ignored,
// and an event cut off by the end of the stream is dropped.

export interface ServerEvent {
  type: string; // the event: field, "message" when there is none
  data: string;
  lastEventId: string;
}

export interface EventStreamHandlers {
  onEvent: (e: ServerEvent) => void;
  onRetry?: (ms: number) => void;
}

export class EventStreamParser {
  private buffer = '';
  private started = false;
  private skipLf = false; // the last chunk ended in CR: an LF opening the next one belongs to it
  private type = '';
  private data: string[] = [];
  private lastEventId = '';

  constructor(private readonly handlers: EventStreamHandlers) {}

  // Text as it arrives, in pieces of any size.
  push(text: string): void {
    if (text === '') return;
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte order mark opening the stream
    }
    if (this.skipLf && text.startsWith('\n')) text = text.slice(1);
    this.skipLf = false;
    this.buffer += text;
    const eol = /\r\n|\r|\n/g;
    let start = 0;
    for (let m = eol.exec(this.buffer); m; m = eol.exec(this.buffer)) {
      this.line(this.buffer.slice(start, m.index));
      start = eol.lastIndex;
      if (m[0] === '\r' && start === this.buffer.length) this.skipLf = true;
    }
    this.buffer = this.buffer.slice(start);
  }

  private line(line: string): void {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return; // a comment
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.type = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.handlers.onRetry?.(Number(value));
        break;
    }
  }

  private dispatch(): void {
    const type = this.type || 'message';
    const data = this.data;
    this.type = '';
    this.data = [];
    if (data.length === 0) return; // only fields other than data: nothing to deliver
    this.handlers.onEvent({ type, data: data.join('\n'), lastEventId: this.lastEventId });
  }
}

// Reads a response body to its end (or until the signal aborts, which rejects with AbortError).
export async function readEventStream(body: ReadableStream<Uint8Array>, handlers: EventStreamHandlers): Promise<void> {
  const parser = new EventStreamParser(handlers);
  const decoder = new TextDecoder(); // UTF-8, as the format requires; stream: a character may span chunks
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      parser.push(decoder.decode(value, { stream: true }));
    }
  } finally {
    reader.releaseLock();
  }
}
