// Framing: turns arbitrary TCP chunks into whole messages. A message lying inside one chunk is
// returned as a view of that chunk (no copy); only a message spanning chunks is copied, once,
// into a buffer of exactly its length.
import { HEADER_LENGTH } from './constants.js';
import type { WireContext } from './context.js';
import { DEFAULT_CONTEXT } from './context.js';
import type { BgpError } from './errors.js';
import { checkHeader } from './header.js';

export type ReaderResult =
  /** `message` is the whole message, header included; `type` its type octet. */
  | { ok: true; type: number; message: Uint8Array }
  /** A header error (NOTIFICATION code 1). The reader stays failed: the session must reset. */
  | { ok: false; error: BgpError };

export class MessageReader {
  /** Swap in the negotiated context after OPEN: it decides the 4096 / 65535 bound (RFC 8654). */
  ctx: WireContext;
  private chunks: Uint8Array[] = [];
  private pos = 0;
  // A Buffer like every other array the header checks see (socket chunks, whole messages):
  // one more kind of array would make those checks polymorphic and throw away their optimized code.
  private readonly hdr = Buffer.alloc(HEADER_LENGTH);
  private hdrFill = 0;
  private partial: Uint8Array | null = null;
  private partialFill = 0;
  private failed: ReaderResult | null = null;

  constructor(ctx: WireContext = DEFAULT_CONTEXT) {
    this.ctx = ctx;
  }

  /** Queues a chunk. The reader keeps a reference: do not reuse the chunk's memory until drained. */
  push(chunk: Uint8Array): void {
    if (chunk.length > 0) this.chunks.push(chunk);
  }

  /** Octets received and not yet returned as a message. */
  get buffered(): number {
    let n = this.hdrFill + this.partialFill - this.pos;
    for (const c of this.chunks) n += c.length;
    return n;
  }

  /** The next complete message, or null until more data arrives. */
  next(): ReaderResult | null {
    if (this.failed) return this.failed;
    for (;;) {
      const cur = this.chunks[0];
      if (cur === undefined) return null;
      const avail = cur.length - this.pos;
      if (avail === 0) {
        this.chunks.shift();
        this.pos = 0;
        continue;
      }
      if (this.partial !== null) {
        const p = this.partial;
        const n = Math.min(p.length - this.partialFill, avail);
        p.set(cur.subarray(this.pos, this.pos + n), this.partialFill);
        this.partialFill += n;
        this.pos += n;
        if (this.partialFill < p.length) continue;
        this.partial = null;
        this.partialFill = 0;
        return { ok: true, type: p[18]!, message: p };
      }
      if (this.hdrFill > 0 || avail < HEADER_LENGTH) {
        const n = Math.min(HEADER_LENGTH - this.hdrFill, avail);
        this.hdr.set(cur.subarray(this.pos, this.pos + n), this.hdrFill);
        this.hdrFill += n;
        this.pos += n;
        if (this.hdrFill < HEADER_LENGTH) continue;
        this.hdrFill = 0;
        const len = checkHeader(this.hdr, 0, this.ctx);
        if (typeof len !== 'number') return this.fail(len);
        const p = Buffer.allocUnsafe(len);
        p.set(this.hdr, 0);
        if (len === HEADER_LENGTH) return { ok: true, type: p[18]!, message: p };
        this.partial = p;
        this.partialFill = HEADER_LENGTH;
        continue;
      }
      const len = checkHeader(cur, this.pos, this.ctx);
      if (typeof len !== 'number') return this.fail(len);
      if (avail >= len) {
        const m = cur.subarray(this.pos, this.pos + len);
        this.pos += len;
        return { ok: true, type: m[18]!, message: m };
      }
      const p = Buffer.allocUnsafe(len);
      p.set(cur.subarray(this.pos), 0);
      this.partial = p;
      this.partialFill = avail;
      this.pos += avail;
    }
  }

  /** Every complete message now buffered; stops after the first error. */
  *drain(): Generator<ReaderResult> {
    for (let r = this.next(); r !== null; r = r.ok ? this.next() : null) yield r;
  }

  private fail(error: BgpError): ReaderResult {
    this.failed = { ok: false, error };
    this.chunks = [];
    return this.failed;
  }
}
