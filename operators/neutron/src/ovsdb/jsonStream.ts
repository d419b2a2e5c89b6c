/**
 * OVSDB's wire format (RFC 7047 §4) is JSON texts sent back to back on a stream, with no delimiter: this
 * splits the bytes into whole texts by tracking nesting outside strings, across chunk boundaries.
 */
export class JsonTextSplitter {
  private buffer = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Where the scan of `buffer` resumes. */
  private scanned = 0;

  /** Feeds a chunk; returns the JSON values completed by it, in order. */
  push(chunk: string): unknown[] {
    this.buffer += chunk;
    const out: unknown[] = [];
    let start = 0;
    for (let i = this.scanned; i < this.buffer.length; i++) {
      const c = this.buffer[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
        continue;
      }
      if (c === '"') this.inString = true;
      else if (c === '{' || c === '[') this.depth++;
      else if (c === '}' || c === ']') {
        this.depth--;
        if (this.depth === 0) {
          out.push(JSON.parse(this.buffer.slice(start, i + 1)));
          start = i + 1;
        } else if (this.depth < 0) throw new Error(`OVSDB stream: unbalanced '${c}' at offset ${i}`);
      } else if (this.depth === 0 && !/\s/.test(c)) throw new Error(`OVSDB stream: '${c}' outside a JSON object`);
    }
    this.buffer = this.buffer.slice(start);
    this.scanned = this.buffer.length;
    return out;
  }
}
