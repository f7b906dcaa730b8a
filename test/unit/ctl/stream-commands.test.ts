import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigMessage } from '../../../src/streams/commands.js';
import { UsageError } from '../../../src/ctl/errors.js';
import {
  commandMessages,
  commandStreams,
  MAX_COMMAND_BYTES,
  removeAllMessage,
} from '../../../src/ctl/stream-commands.js';
import type { StreamEntry } from '../../../src/ctl/stream-file.js';
import { deserialiseFc00, type Fc00Stream, Protocol, UpdateType } from '../../../src/schemas/index.js';

const entry = (overrides: Partial<StreamEntry> = {}): StreamEntry => ({
  pv: 'SIM:A',
  protocol: 'ca',
  topic: 'motion',
  schema: 'f144',
  where: 'line 1',
  ...overrides,
});

const problems = (command: Parameters<typeof commandStreams>[0], entries: StreamEntry[]): string[] => {
  try {
    commandStreams(command, entries);
  } catch (error) {
    assert.ok(error instanceof UsageError);
    return error.message.split('\n');
  }
  assert.fail('expected a UsageError');
};

describe('command streams', () => {
  it('converts entries to fc00 streams, with --periodic as the default for entries that do not say', () => {
    const streams = commandStreams(
      'add',
      [entry(), entry({ pv: 'SIM:B', protocol: 'PVA', schema: 'nttable_se00', periodic: false })],
      true,
    );
    assert.deepEqual(streams, [
      { channel: 'SIM:A', schema: 'f144', topic: 'motion', protocol: Protocol.CA, periodic: 1 },
      { channel: 'SIM:B', schema: 'nttable_se00', topic: 'motion', protocol: Protocol.PVA, periodic: 0 },
    ]);
  });

  it('refuses what the forwarder would skip, listing every problem with its place', () => {
    assert.deepEqual(
      problems('add', [
        entry({ protocol: 'xx', where: 'line 1' }),
        entry({ schema: 'f999', where: 'line 2' }),
        entry({ schema: 'nttable_senv', where: 'line 3' }),
        entry({ pv: 'A B', where: 'line 4' }),
        entry({ topic: 'bad/topic', where: 'line 5' }),
        entry({ pv: '', where: 'line 6' }),
        entry({ protocol: '', where: 'line 7' }),
        entry({ where: 'line 8' }),
      ]).map((problem) => problem.replace(/stream name=.*?: /, '')),
      [
        "line 1: unknown protocol 'xx' (expected one of ca, pva, fake)",
        "line 2: unknown schema 'f999' (expected one of f144, f142, tdct, al00, ep01, no_op, nttable_se00, nttable_senv, ad00, da00)",
        "line 3: schema 'nttable_senv' is not available for protocol ca: it needs an NTTable, which only pvAccess serves",
        'line 4: PV name contains white space or control characters',
        `line 5: topic 'bad/topic' may only contain letters, digits, ".", "_" and "-"`,
        'line 6: empty PV name',
        'line 7: no protocol (ca, pva, fake)',
      ],
    );
  });

  it('checks REPLACE streams as ADD streams', () => {
    assert.match(problems('replace', [entry({ schema: '' })]).join(), /empty schema/);
  });

  it('takes REMOVE patterns with wildcards and empty fields, but not all empty', () => {
    const streams = commandStreams('remove', [
      entry({ pv: 'SIM:*', protocol: '', topic: '', schema: '', periodic: true }),
      entry({ pv: '', protocol: '', topic: 'mo?ion', schema: 'f142' }),
    ]);
    assert.deepEqual(streams, [
      { channel: 'SIM:*', schema: '', topic: '', protocol: Protocol.PVA, periodic: 0 },
      { channel: '', schema: 'f142', topic: 'mo?ion', protocol: Protocol.PVA, periodic: 0 },
    ]);
    assert.match(
      problems('remove', [entry({ pv: '', protocol: '', topic: '', schema: '' })]).join(),
      /matches nothing specific/,
    );
  });

  it('needs at least one stream', () => {
    assert.match(problems('add', []).join(), /add: no streams given/);
  });

  it('lists at most 20 problems', () => {
    const lines = problems(
      'add',
      Array.from({ length: 25 }, (_, index) => entry({ protocol: 'x', where: `line ${index}` })),
    );
    assert.equal(lines.length, 21);
    assert.equal(lines[20], '... and 5 more problems');
  });
});

describe('command messages', () => {
  const stream = (index: number): Fc00Stream => ({
    channel: `SECTOR${index}:DEVICE:SIGNAL-READBACK`,
    schema: 'f144',
    topic: 'forwarder_data',
    protocol: Protocol.CA,
    periodic: index % 2,
  });

  it('sends one message the forwarder accepts as the command', () => {
    const [message, ...rest] = commandMessages('add', [stream(1), stream(2)]);
    assert.equal(rest.length, 0);
    const parsed = parseConfigMessage(message ?? new Uint8Array());
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.skipped, []);
    assert.equal(parsed.command.type, 'add');
    assert.deepEqual(deserialiseFc00(message ?? new Uint8Array()).streams, [stream(1), stream(2)]);
  });

  it('splits many streams into messages under the limit, keeping every stream in order', () => {
    const streams = Array.from({ length: 20_000 }, (_, index) => stream(index));
    for (const command of ['add', 'remove', 'replace'] as const) {
      const messages = commandMessages(command, streams);
      assert.ok(messages.length > 1);
      for (const message of messages)
        assert.ok(message.length <= MAX_COMMAND_BYTES, `${message.length} bytes`);
      const decoded = messages.map((message) => deserialiseFc00(message));
      assert.deepEqual(
        decoded.flatMap((each) => each.streams),
        streams,
      );
      const first = { add: UpdateType.ADD, remove: UpdateType.REMOVE, replace: UpdateType.REPLACE }[command];
      assert.deepEqual(
        decoded.map((each) => each.configChange),
        decoded.map((_, index) => (command === 'replace' && index > 0 ? UpdateType.ADD : first)),
      );
    }
  });

  it('keeps to a small limit too', () => {
    const messages = commandMessages('add', [stream(1), stream(2), stream(3)], 250);
    assert.equal(messages.length, 3);
    for (const message of messages) assert.ok(message.length <= 250);
  });

  it('builds REMOVEALL without streams', () => {
    assert.deepEqual(deserialiseFc00(removeAllMessage()), {
      configChange: UpdateType.REMOVEALL,
      streams: [],
    });
  });
});
