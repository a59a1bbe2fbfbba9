import { createWriteStream, type WriteStream } from 'node:fs';

export interface FrameRecorderOptions {
  /** Frames are skipped (and counted) rather than buffered beyond this many bytes when the disk lags. Default 32 MiB. */
  maxBufferedBytes?: number;
}

const LINE_BREAKS = /\r\n|[\r\n]/g;

/**
 * `--record FILE`: appends every raw text frame, exactly as received, as one line, so
 * `--source replay --format binance|finnhub --file FILE` reproduces the session. Exchanges send compact JSON;
 * a frame that does contain a line break (only possible as JSON whitespace) has it replaced by a space, which
 * keeps the JSON value identical.
 */
export class FrameRecorder {
  readonly path: string;
  readonly #stream: WriteStream;
  readonly #maxBuffered: number;
  #error: Error | null = null;
  written = 0;
  dropped = 0;

  private constructor(path: string, stream: WriteStream, maxBuffered: number) {
    this.path = path;
    this.#stream = stream;
    this.#maxBuffered = maxBuffered;
    stream.on('error', (err) => {
      this.#error = err;
    });
  }

  /** Opens FILE for appending; rejects (at start-up) when it cannot be opened. */
  static async open(path: string, options: FrameRecorderOptions = {}): Promise<FrameRecorder> {
    const stream = createWriteStream(path, { flags: 'a', encoding: 'utf8' });
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', (err) => reject(new Error(`cannot open --record file ${path}: ${err.message}`)));
    });
    return new FrameRecorder(path, stream, options.maxBufferedBytes ?? 32 * 1024 * 1024);
  }

  /** Appends one frame; false when it was skipped (file error, or the disk is too far behind). */
  write(frame: string): boolean {
    if (this.#error || this.#stream.writableLength > this.#maxBuffered) {
      this.dropped++;
      return false;
    }
    const line = frame.includes('\n') || frame.includes('\r') ? frame.replace(LINE_BREAKS, ' ') : frame;
    this.#stream.write(`${line}\n`);
    this.written++;
    return true;
  }

  get error(): Error | null {
    return this.#error;
  }

  /** Flushes and closes the file. */
  close(): Promise<void> {
    if (this.#stream.closed || this.#stream.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#stream.end(() => resolve());
      this.#stream.once('error', () => resolve());
    });
  }
}
