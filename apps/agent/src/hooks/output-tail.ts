/**
 * The last lines a hook wrote to stdout and stderr, interleaved as they arrived. Bounded in bytes
 * so a chatty hook cannot grow the agent's memory; only the tail is ever reported.
 */
export class OutputTail {
  private chunks: Buffer[] = [];
  private bytes = 0;

  constructor(
    private readonly maxLines = 20,
    private readonly maxBytes = 64 * 1024,
  ) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    while (this.bytes > this.maxBytes && this.chunks.length > 1) this.bytes -= this.chunks.shift()!.length;
  }

  lines(): string[] {
    let text = Buffer.concat(this.chunks).toString('utf8');
    if (text.length > this.maxBytes) text = text.slice(-this.maxBytes);
    const lines = text.split(/\r?\n/);
    if (lines[lines.length - 1] === '') lines.pop();
    return lines.slice(-this.maxLines).map((l) => (l.length > 1000 ? `${l.slice(0, 1000)}…` : l));
  }
}
