/**
 * An IOC database of counting records that change at a chosen rate, started and stopped by one gate record, for
 * end-to-end load: each `calc` record adds one to itself per processing, so its value tells how many updates the
 * IOC made, whatever reached a client.
 */

/** Records per forward-link chain; the IOC processes a chain in one go, so keep its recursion shallow. */
const CHAIN_LENGTH = 100;
/** Links of a fanout record (LNK0..LNKF). */
const FANOUT_LINKS = 16;
/** The fastest standard scan period; faster rates come from processing each chain several times per scan. */
const SCAN_PERIOD_S = 0.1;

export const MAX_RATE_HZ = FANOUT_LINKS / SCAN_PERIOD_S;

/** Name (without the prefix) of the counting record `index`. */
export const counterName = (index: number): string => `r:${index}`;

/** Name (without the prefix) of the gate: 1 runs the load, 0 stops it. */
export const GATE = 'run';

const links = (targets: readonly string[]): string =>
  targets.map((target, i) => `field(LNK${i.toString(16).toUpperCase()}, "${target}")`).join(' ');

/**
 * `count` counting records in chains of CHAIN_LENGTH linked by FLNK, in groups of FANOUT_LINKS chains. Every
 * group has a drive fanout scanned every 0.1 s, disabled while the gate is 0, that runs `rateHz / 10` passes over
 * its chains: consecutive updates of one record are a whole pass apart. The first record of each chain is
 * processed once at start (PINI), so every counter starts at 1 with a valid timestamp.
 */
export function countingDatabase(count: number, rateHz: number): string {
  const passes = Math.round(rateHz * SCAN_PERIOD_S);
  if (passes < 1 || passes > FANOUT_LINKS) throw new Error(`rate must be 10..${MAX_RATE_HZ} Hz`);
  const chains = Math.ceil(count / CHAIN_LENGTH);
  const groups = Math.ceil(chains / FANOUT_LINKS);
  const lines = [`record(bo, "$(P)${GATE}") { field(VAL, "0") field(PINI, "YES") }`];
  for (let group = 0; group < groups; group++) {
    const passNames = Array.from({ length: passes }, (_, pass) => `$(P)pass:${group}:${pass}`);
    lines.push(
      `record(fanout, "$(P)drive:${group}") { field(SCAN, ".1 second") field(SDIS, "$(P)${GATE}") field(DISV, "0") ${links(passNames)} }`,
    );
    const firstChain = group * FANOUT_LINKS;
    const chainHeads = Array.from(
      { length: Math.min(FANOUT_LINKS, chains - firstChain) },
      (_, i) => `$(P)${counterName((firstChain + i) * CHAIN_LENGTH)}`,
    );
    for (const passName of passNames) lines.push(`record(fanout, "${passName}") { ${links(chainHeads)} }`);
  }
  for (let i = 0; i < count; i++) {
    const head = i % CHAIN_LENGTH === 0 ? ' field(PINI, "YES")' : '';
    const last = i % CHAIN_LENGTH === CHAIN_LENGTH - 1 || i === count - 1;
    const forward = last ? '' : ` field(FLNK, "$(P)${counterName(i + 1)}")`;
    const name = `$(P)${counterName(i)}`;
    lines.push(`record(calc, "${name}") { field(INPA, "${name} NPP") field(CALC, "A+1")${head}${forward} }`);
  }
  return lines.join('\n') + '\n';
}
