import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LogLimiter } from '../../../src/epics/pva/log-limit.js';
import type { Logger } from '../../../src/logging/logger.js';

function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const record =
    (level: string) =>
    (message: string): void => {
      lines.push(`${level}: ${message}`);
    };
  return {
    lines,
    logger: { error: record('error'), warn: record('warn'), info: record('info'), debug: record('debug') },
  };
}

describe('log limiter', () => {
  it('passes the first messages of a window and reports the rest when the window ends', () => {
    const { logger, lines } = recordingLogger();
    const limiter = new LogLimiter(logger, 2, 1000);
    for (let i = 0; i < 5; i++) limiter.log('warn', `m${i}`, 100 + i);
    assert.deepEqual(lines, ['warn: m0', 'warn: m1']);
    limiter.roll(500);
    assert.equal(lines.length, 2, 'window not over yet');
    limiter.roll(1100);
    assert.deepEqual(lines.slice(2), ['warn: 3 further pvAccess client messages suppressed in 1 s']);
    limiter.log('error', 'next window', 1200);
    assert.deepEqual(lines.slice(3), ['error: next window']);
  });

  it('says nothing extra when nothing was held back', () => {
    const { logger, lines } = recordingLogger();
    const limiter = new LogLimiter(logger, 5, 1000);
    limiter.log('info', 'one', 0);
    limiter.roll(5000);
    assert.deepEqual(lines, ['info: one']);
  });
});
