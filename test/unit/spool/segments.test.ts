/** The spool's files on a real file system: segments, buffered appends, and what opening repairs. */
import assert from 'node:assert/strict';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeSync } from 'node:fs';
import {
  FLUSH_INTERVAL_MS,
  type FileWriter,
  SegmentFiles,
  type SpoolPosition,
} from '../../../src/spool/segments.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function spoolDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ekf-spool-'));
  dirs.push(dir);
  return dir;
}

function appendMany(files: SegmentFiles, count: number, from = 0): void {
  for (let i = from; i < from + count; i++) {
    files.append('data', Buffer.from(`PV:${i % 7}`), Buffer.from(`value ${i}`), 1_000 + i);
  }
}

function readAll(files: SegmentFiles, from: SpoolPosition = { segment: 0, offset: 0 }): string[] {
  const out: string[] = [];
  let position = from;
  for (;;) {
    const { records, next } = files.read(position, 300);
    if (records.length === 0) return out;
    out.push(...records.map((record) => record.message.payload.toString()));
    position = next;
  }
}

/** A disk that fills up after a given number of bytes, and frees space when told to. */
class FlakyDisk {
  private room = Number.POSITIVE_INFINITY;

  readonly write: FileWriter = (fd, buffer, offset, length, position) => {
    if (this.room <= 0)
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const written = writeSync(fd, buffer, offset, Math.min(length, this.room), position);
    this.room -= written;
    return written;
  };

  failAfter(bytes: number): void {
    this.room = bytes;
  }

  heal(): void {
    this.room = Number.POSITIVE_INFINITY;
  }
}

const values = (from: number, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `value ${from + i}`);

describe('spool segments', () => {
  it('appends into segments of bounded size and reads everything back in order, buffered appends included', () => {
    const { files } = SegmentFiles.open(spoolDir(), { segmentBytes: 1000, sync: false });
    appendMany(files, 100);
    assert.ok(files.segments.length > 3, `${files.segments.length} segments`);
    assert.deepEqual(readAll(files), values(0, 100));
    files.close();
  });

  it('finds what an earlier run wrote, and appends to a new segment after it', () => {
    const dir = spoolDir();
    const first = SegmentFiles.open(dir, { segmentBytes: 1000, sync: true });
    appendMany(first.files, 30);
    first.files.close();
    const second = SegmentFiles.open(dir, { segmentBytes: 1000, sync: false });
    assert.deepEqual(second.recovery, { tornBytes: 0, corruptRecords: 0, corruptBytes: 0 });
    const found = second.files.segments.slice(0, -1);
    assert.equal(
      found.reduce((sum, segment) => sum + segment.records, 0),
      30,
    );
    appendMany(second.files, 10, 30);
    assert.deepEqual(readAll(second.files), values(0, 40));
    second.files.close();
  });

  it('cuts a torn tail (a write cut short) at the last whole record, and counts it', () => {
    const dir = spoolDir();
    const { files } = SegmentFiles.open(dir, { segmentBytes: 1 << 20, sync: false });
    appendMany(files, 20);
    files.close();
    const [segment] = readdirSync(dir).filter((name) => name.endsWith('.spool'));
    const path = join(dir, segment as string);
    truncateSync(path, statSync(path).size - 5);
    const reopened = SegmentFiles.open(dir, { segmentBytes: 1 << 20, sync: false });
    assert.ok(reopened.recovery.tornBytes > 0);
    assert.equal(reopened.recovery.corruptRecords, 0);
    assert.deepEqual(readAll(reopened.files), values(0, 19));
    reopened.files.close();
  });

  it('skips a corrupted record in the middle, counts it, and reads on', () => {
    const dir = spoolDir();
    const { files } = SegmentFiles.open(dir, { segmentBytes: 1 << 20, sync: false });
    appendMany(files, 20);
    files.close();
    const [segment] = readdirSync(dir).filter((name) => name.endsWith('.spool'));
    const path = join(dir, segment as string);
    const bytes = readFileSync(path);
    const tenth = bytes.indexOf('value 10');
    bytes[tenth + 2] = (bytes[tenth + 2] as number) ^ 0xff;
    writeFileSync(path, bytes);
    const reopened = SegmentFiles.open(dir, { segmentBytes: 1 << 20, sync: false });
    assert.equal(reopened.recovery.corruptRecords, 1);
    assert.equal(reopened.recovery.tornBytes, 0);
    assert.deepEqual(readAll(reopened.files), [...values(0, 10), ...values(11, 9)]);
    reopened.files.close();
  });

  it('deletes a finished segment, and every segment once closed', () => {
    const dir = spoolDir();
    const { files } = SegmentFiles.open(dir, { segmentBytes: 1000, sync: false });
    appendMany(files, 60);
    files.flush();
    const oldest = files.segments[0]?.id as number;
    files.delete(oldest);
    assert.ok(!files.segments.some((segment) => segment.id === oldest));
    files.close();
    files.deleteAll();
    assert.deepEqual(readdirSync(dir), []);
  });
  it('keeps appends in memory while the disk refuses writes, refuses appends once that is full, and writes them later', async () => {
    const disk = new FlakyDisk();
    const dir = spoolDir();
    const { files } = SegmentFiles.open(dir, { segmentBytes: 1 << 30, sync: false, write: disk.write });
    appendMany(files, 10);
    disk.failAfter(40); // The next write stops after 40 bytes: the middle of a record.
    assert.equal(files.flush(), false);
    assert.match(files.writeFailure?.message ?? '', /ENOSPC/);
    assert.deepEqual(readAll(files), values(0, 10), 'what is in memory is read from memory');
    let refusedAt = -1;
    for (let i = 10; refusedAt < 0 && i < 200_000; i++) {
      if (files.append('data', null, Buffer.alloc(100, 1), i) === undefined) refusedAt = i;
    }
    assert.ok(refusedAt > 10, 'appends are refused once the write buffer is full');
    disk.heal();
    await sleep(FLUSH_INTERVAL_MS + 10);
    assert.equal(files.flush(), true);
    assert.equal(files.writeFailure, undefined);
    assert.equal(files.append('data', null, Buffer.from('value after'), 0) !== undefined, true);
    assert.equal(files.close(), 0);
    const again = SegmentFiles.open(dir, { segmentBytes: 1 << 30, sync: false });
    const read = readAll(again.files);
    assert.deepEqual(read.slice(0, 10), values(0, 10), 'the torn write was written again whole');
    assert.equal(read.length, refusedAt + 1);
    assert.equal(read.at(-1), 'value after');
    assert.deepEqual(again.recovery, { tornBytes: 0, corruptRecords: 0, corruptBytes: 0 });
    again.files.close();
  });

  it('says how many bytes a close could not write', () => {
    const disk = new FlakyDisk();
    const { files } = SegmentFiles.open(spoolDir(), {
      segmentBytes: 1 << 30,
      sync: false,
      write: disk.write,
    });
    appendMany(files, 3);
    disk.failAfter(0);
    assert.ok(files.close() > 0);
  });
});
