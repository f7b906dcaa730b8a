import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Logger } from '../../../src/logging/logger.js';
import { RateLimitedLog } from '../../../src/logging/rate-limited.js';

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

describe('rate-limited log', () => {
  it('logs once per interval and counts the rest in the next line it lets through', () => {
    const { logger, lines } = recordingLogger();
    const log = new RateLimitedLog(logger, 'error', 1000);
    log.log('a', 0);
    log.log('b', 10);
    log.log('c', 999);
    log.log('d', 1000);
    log.log('e', 1500);
    assert.deepEqual(lines, ['error: a', 'error: d (2 more like it since the last report)']);
  });

  it('lets a burst through per interval and reports the rest when flushed after the interval', () => {
    const { logger, lines } = recordingLogger();
    const log = new RateLimitedLog(logger, 'warn', 1000, { limit: 2, subject: 'client messages' });
    for (let i = 0; i < 5; i++) log.log(`m${i}`, 100 + i);
    assert.deepEqual(lines, ['warn: m0', 'warn: m1']);
    log.flush(500);
    assert.equal(lines.length, 2, 'interval not over yet');
    log.flush(1100);
    assert.deepEqual(lines.slice(2), ['warn: 3 more client messages in the last 1 s (not logged)']);
    log.log('next interval', 1200, 'error');
    assert.deepEqual(lines.slice(3), ['error: next interval']);
  });

  it('says nothing extra when nothing was held back', () => {
    const { logger, lines } = recordingLogger();
    const log = new RateLimitedLog(logger, 'info', 1000, { limit: 5 });
    log.log('one', 0);
    log.flush(5000);
    assert.deepEqual(lines, ['info: one']);
  });
});
