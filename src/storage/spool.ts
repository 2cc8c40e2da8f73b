import { crc32 } from 'node:zlib';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';

/**
 * The on-disk spool: where batches go when InfluxDB is down or slow, so that the platform can
 * acknowledge them (MQTT PUBACK, HTTP 2xx) without holding them in memory. Append-only segment
 * files, each record fsynced before `append` resolves; read back oldest first.
 *
 * Record: [u32 body length][u32 crc32][f64 spooled-at ms][u32 lines][body: line protocol, UTF-8].
 * The CRC covers the spooled-at, lines and body fields. A record that fails its CRC, or a segment
 * that ends mid-record, makes the rest of that segment unreadable: it is renamed `*.corrupt`
 * (kept for forensics), counted and logged, and replay goes on with the next segment. A failed
 * append (disk full) truncates the segment back, so a half-written record never stays behind.
 */
const HEADER = 20;

export interface SpoolRecord {
  body: string;
  lines: number;
  spooledAt: number;
}

export class SpoolFullError extends Error {
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'SpoolFullError';
  }
}

interface Segment {
  seq: number;
  path: string;
  size: number;
}

export interface SpoolOptions {
  dir: string;
  /** The spool refuses appends (SpoolFullError) beyond this many bytes on disk. */
  maxBytes?: number;
  /** Start a new segment file beyond this size. */
  segmentBytes?: number;
  logger?: Logger;
}

export interface SpoolStats {
  bytes: number;
  records: number;
  lines: number;
  segments: number;
  /** Spooled-at time of the oldest record not yet replayed (ms), or null. */
  oldestAt: number | null;
  corruptSegments: number;
}

export class Spool {
  private segments: Segment[] = [];
  private writer: { seg: Segment; fh: FileHandle } | null = null;
  private readPos = 0; // offset in segments[0]
  private queued: (SpoolRecord & { size: number })[] = []; // records read ahead from segments[0], not yet committed
  private counts = { records: 0, lines: 0 };
  private oldestKnown: number | null = null;
  private corrupt = 0;
  private lastSeq = 0;
  private appending: Promise<void> = Promise.resolve();
  private readonly maxBytes: number;
  private readonly segmentBytes: number;

  private constructor(private readonly opts: SpoolOptions) {
    this.maxBytes = opts.maxBytes ?? 1024 ** 3;
    this.segmentBytes = opts.segmentBytes ?? 16 * 1024 ** 2;
  }

  /** Open (or create) the spool directory and index what an earlier run left in it. */
  static async open(opts: SpoolOptions): Promise<Spool> {
    const spool = new Spool(opts);
    await mkdir(opts.dir, { recursive: true });
    const names = (await readdir(opts.dir)).filter((n) => /^\d{12}\.seg$/.test(n)).sort();
    for (const name of names) {
      const path = join(opts.dir, name);
      spool.segments.push({ seq: Number(name.slice(0, 12)), path, size: (await stat(path)).size });
    }
    for (const s of spool.segments.filter((x) => x.size === 0)) await rm(s.path, { force: true });
    spool.segments = spool.segments.filter((s) => s.size > 0);
    spool.lastSeq = Math.max(0, ...names.map((n) => Number(n.slice(0, 12))));
    // Counts for what is on disk are learnt as replay reads it; bytes are known now, and the age
    // of the oldest record is in its header.
    const first = spool.segments[0];
    if (first && first.size >= HEADER) {
      const fh = await open(first.path, 'r');
      try {
        const head = Buffer.alloc(HEADER);
        await fh.read(head, 0, HEADER, 0);
        const at = head.readDoubleLE(8);
        if (Number.isFinite(at) && at > 0) spool.oldestKnown = at;
      } finally {
        await fh.close();
      }
    }
    if (spool.segments.length > 0) opts.logger?.info({ segments: spool.segments.length, bytes: spool.bytes }, 'spool holds data from an earlier run; it will be replayed');
    return spool;
  }

  get bytes(): number {
    return this.segments.reduce((n, s) => n + s.size, 0);
  }

  /** Bytes on disk not yet replayed (read-ahead records count until committed). */
  private unreplayedBytes(): number {
    return this.bytes - this.readPos + this.queued.reduce((n, r) => n + r.size, 0);
  }

  /** True while records wait to be replayed. */
  get pending(): boolean {
    return this.queued.length > 0 || this.bytes > this.readPos;
  }

  stats(): SpoolStats {
    return {
      bytes: this.unreplayedBytes(),
      records: this.counts.records,
      lines: this.counts.lines,
      segments: this.segments.length,
      oldestAt: this.queued[0]?.spooledAt ?? this.oldestKnown,
      corruptSegments: this.corrupt,
    };
  }

  /** Append one batch; resolves once it is fsynced. Throws SpoolFullError when full or out of disk. */
  append(body: string, lines: number, now = Date.now()): Promise<void> {
    const run = this.appending.then(() => this.appendNow(body, lines, now));
    this.appending = run.catch(() => undefined); // appends are serialised; one failure does not block the next
    return run;
  }

  private async appendNow(body: string, lines: number, now: number): Promise<void> {
    const payload = Buffer.from(body, 'utf8');
    const record = Buffer.allocUnsafe(HEADER + payload.length);
    record.writeUInt32LE(payload.length, 0);
    record.writeDoubleLE(now, 8);
    record.writeUInt32LE(lines, 16);
    payload.copy(record, HEADER);
    record.writeUInt32LE(crc32(record.subarray(8)), 4);
    if (this.unreplayedBytes() + record.length > this.maxBytes) {
      throw new SpoolFullError(`spool is full (${this.unreplayedBytes()} of ${this.maxBytes} bytes used)`);
    }
    if (!this.writer || this.writer.seg.size >= this.segmentBytes) await this.rotate();
    const { seg, fh } = this.writer!;
    try {
      // A nearly full disk can take part of a record (a short write, no error): keep writing
      // until all of it is on disk or the kernel says no.
      for (let done = 0; done < record.length; ) {
        const { bytesWritten } = await fh.write(record, done, record.length - done, seg.size + done);
        if (bytesWritten === 0) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
        done += bytesWritten;
      }
      await fh.datasync(); // durable before we acknowledge anything upstream
    } catch (err) {
      // Disk full (ENOSPC) or I/O error: cut the partial record off so the file stays valid.
      await fh.truncate(seg.size).catch(() => undefined);
      throw new SpoolFullError(`cannot write to the spool in ${this.opts.dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, err);
    }
    seg.size += record.length;
    this.counts.records++;
    this.counts.lines += lines;
    this.oldestKnown ??= now;
  }

  private async rotate(): Promise<void> {
    await this.writer?.fh.close();
    const seq = ++this.lastSeq;
    const seg = { seq, path: join(this.opts.dir, `${String(seq).padStart(12, '0')}.seg`), size: 0 };
    // Not O_APPEND: Linux ignores the position of writes to append-mode files, and our
    // accounting of where each record starts must be exactly what is on disk.
    const fh = await open(seg.path, 'wx+');
    await fh.sync();
    // fsync the directory so the new file's entry survives a power loss too.
    const dir = await open(this.opts.dir, 'r');
    await dir.sync().finally(() => dir.close());
    this.segments.push(seg);
    this.writer = { seg, fh };
  }

  /** The oldest record not yet committed, or null when the spool is empty. */
  async peek(): Promise<SpoolRecord | null> {
    await this.appending;
    while (this.queued.length === 0) {
      const seg = this.segments[0];
      if (!seg) return null;
      if (this.readPos >= seg.size) {
        if (this.segments.length === 1) return null; // the active segment, all read
        await this.serial(async () => {
          if (this.segments[0] === seg && this.segments.length > 1 && this.readPos >= seg.size) await this.dropFirstSegment();
        });
        continue;
      }
      await this.readAhead(seg);
    }
    return this.queued[0]!;
  }

  /**
   * The record returned by `peek` is delivered: forget it. With `expected`, only if it is still
   * the oldest (a queue that dropped its oldest record meanwhile must not lose the next one).
   */
  async commit(expected?: SpoolRecord): Promise<void> {
    if (expected && this.queued[0] !== expected) return;
    const rec = this.queued.shift();
    if (!rec) return;
    this.counts.records = Math.max(0, this.counts.records - 1);
    this.counts.lines = Math.max(0, this.counts.lines - rec.lines);
    this.oldestKnown = this.queued[0]?.spooledAt ?? null;
    // Reclaiming space touches the file appends write to: run it in the append queue, and check
    // again there (an append may have landed in between; truncating under it would lose it).
    await this.serial(async () => {
      const seg = this.segments[0];
      if (this.queued.length > 0 || !seg || this.readPos < seg.size) return;
      if (this.segments.length > 1) await this.dropFirstSegment();
      else if (this.writer?.seg === seg) {
        // Everything is replayed: start afresh so the file does not grow for ever.
        await this.writer.fh.truncate(0);
        seg.size = 0;
        this.readPos = 0;
      }
    });
  }

  /** Run `fn` after every pending append, and before any later one. */
  private serial(fn: () => Promise<void>): Promise<void> {
    const run = this.appending.then(fn);
    this.appending = run.catch(() => undefined);
    return run;
  }

  private async readAhead(seg: Segment): Promise<void> {
    const fh = this.writer?.seg === seg ? this.writer.fh : await open(seg.path, 'r');
    try {
      const chunkEnd = Math.min(seg.size, this.readPos + 4 * 1024 * 1024);
      while (this.readPos < chunkEnd) {
        const head = Buffer.alloc(HEADER);
        const { bytesRead } = await fh.read(head, 0, HEADER, this.readPos);
        const len = head.readUInt32LE(0);
        if (bytesRead < HEADER || this.readPos + HEADER + len > seg.size) return this.markCorrupt(seg, `record at ${this.readPos} is cut short`);
        const rec = Buffer.alloc(HEADER + len);
        await fh.read(rec, 0, rec.length, this.readPos);
        if (crc32(rec.subarray(8)) !== rec.readUInt32LE(4)) return this.markCorrupt(seg, `record at ${this.readPos} fails its checksum`);
        this.queued.push({ spooledAt: rec.readDoubleLE(8), lines: rec.readUInt32LE(16), body: rec.subarray(HEADER).toString('utf8'), size: rec.length });
        this.readPos += rec.length;
        if (this.queued.length >= 64) return;
      }
    } finally {
      if (this.writer?.seg !== seg) await fh.close();
    }
  }

  private markCorrupt(seg: Segment, why: string): Promise<void> {
    return this.serial(async () => {
      this.corrupt++;
      this.opts.logger?.error({ segment: seg.path, why, skippedBytes: seg.size - this.readPos }, 'corrupt spool segment: skipping the rest of it (kept as .corrupt)');
      if (this.writer?.seg === seg) {
        await this.writer.fh.close();
        this.writer = null;
      }
      await rename(seg.path, `${seg.path}.corrupt`).catch(() => undefined);
      this.segments.shift();
      this.readPos = 0;
    });
  }

  private async dropFirstSegment(): Promise<void> {
    const seg = this.segments.shift()!;
    if (this.writer?.seg === seg) {
      await this.writer.fh.close();
      this.writer = null;
    }
    await rm(seg.path, { force: true });
    this.readPos = 0;
  }

  async close(): Promise<void> {
    await this.appending;
    await this.writer?.fh.close();
    this.writer = null;
  }
}
