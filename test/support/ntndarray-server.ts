/**
 * Runs test/env/pva/ntndarray_server.py, a p4p (pvxs) server of area-detector images (NTNDArray), on loopback at
 * free ports: single frames whose content it reports, or a stream of frames at a given rate.
 */
import { join } from 'node:path';
import { repoRoot } from './paths.js';
import { PythonPvaServer } from './python-pva-server.js';

/** An image element type as numpy names it. */
export type ImageDtype =
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'float32'
  | 'float64'
  | 'bool';

/** What the server sent, as it reports it: numbers as strings (integers in decimal, floats as Python's repr). */
export interface SentFrame {
  readonly shape: number[];
  readonly dtype: string;
  /** null for frames of more than 4096 elements. */
  readonly data: string[] | null;
  readonly unique_id: string;
  readonly timestamp_ns: string;
  readonly attributes: Record<string, string>;
}

export class NtNdArrayServer {
  /** STREAMED lines printed before the current stream started. */
  private streamsEnded = 0;

  private constructor(private readonly server: PythonPvaServer) {}

  /** Serves one image PV per name (default "image"). */
  static async start(names: readonly string[] = []): Promise<NtNdArrayServer> {
    const script = join(repoRoot, 'test', 'env', 'pva', 'ntndarray_server.py');
    return new NtNdArrayServer(await PythonPvaServer.start('NTNDArray server', [script, ...names]));
  }

  pv(name = 'image'): string {
    return this.server.pv(name);
  }

  get clientEnv(): Record<string, string> {
    return this.server.clientEnv;
  }

  /** Where a client searches for it (an EPICS_PVA_ADDR_LIST entry), beside other servers. */
  get searchAddress(): string {
    return `127.0.0.1:${this.server.ports.pvaBroadcastPort}`;
  }

  /** Posts one frame (elements counting up from the unique id) and resolves with what was sent. */
  async post(frame: {
    dtype: ImageDtype;
    shape: readonly number[];
    uniqueId: number;
    timestampNs: bigint;
    pv?: string;
  }): Promise<SentFrame> {
    const command = {
      op: 'post',
      pv: frame.pv ?? 'image',
      dtype: frame.dtype,
      shape: frame.shape,
      unique_id: frame.uniqueId,
      timestamp_ns: String(frame.timestampNs),
    };
    await this.server.command(JSON.stringify(command), '\nSENT ');
    const sent = this.server.linesStartingWith('SENT ').at(-1);
    if (sent === undefined) throw new Error('the NTNDArray server reported no frame');
    return JSON.parse(sent) as SentFrame;
  }

  /** Starts posting `count` frames (0: until stopped) at `rateHz` (0: as fast as the server can). */
  async stream(stream: {
    dtype: ImageDtype;
    shape: readonly number[];
    rateHz: number;
    count: number;
    pv?: string;
  }): Promise<void> {
    const { dtype, shape, rateHz, count, pv = 'image' } = stream;
    const command = { op: 'stream', pv, dtype, shape, rate_hz: rateHz, count };
    this.streamsEnded = this.server.linesStartingWith('STREAMED ').length;
    await this.server.command(JSON.stringify(command), '\nSTREAMING');
  }

  /** Whether the current stream has posted all its frames. */
  streamed(): boolean {
    return this.server.linesStartingWith('STREAMED ').length > this.streamsEnded;
  }

  /** Ends the stream; resolves with the frames it posted and the seconds it took. */
  async stopStream(): Promise<{ frames: number; seconds: number }> {
    await this.server.command(JSON.stringify({ op: 'stop' }), '\nSTOPPED');
    const [frames = '0', seconds = '0'] = (this.server.linesStartingWith('STREAMED ').at(-1) ?? '').split(
      ' ',
    );
    return { frames: Number(frames), seconds: Number(seconds) };
  }

  async stop(): Promise<void> {
    await this.server.stop();
  }
}
