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

/** Share of a pass's time slot its chains are spread over, so that a pass ends before the next scan. */
const SPREAD_SLACK = 0.9;

/**
 * `count` counting records in chains of CHAIN_LENGTH linked by FLNK, in groups of FANOUT_LINKS chains. Every
 * group has a drive fanout scanned every 0.1 s, disabled while the gate is 0, that runs `rateHz / 10` passes over
 * its chains: consecutive updates of one record are a whole pass apart. The first record of each chain is
 * processed once at start (PINI), so every counter starts at 1 with a valid timestamp.
 *
 * By default every pass runs at the scan, so the IOC makes its updates in bursts (all records, `rateHz / 10`
 * times, every 0.1 s). With `spread`, each pass is a `seq` record that starts its chains one after another over
 * its own slot of the scan period, as a facility's many independently scanned records would: the same rate,
 * arriving smoothly.
 */
export function countingDatabase(count: number, rateHz: number, options: { spread?: boolean } = {}): string {
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
    passNames.forEach((passName, pass) =>
      lines.push(
        options.spread
          ? spreadPass(passName, chainHeads, (pass * SCAN_PERIOD_S) / passes, SCAN_PERIOD_S / passes)
          : `record(fanout, "${passName}") { ${links(chainHeads)} }`,
      ),
    );
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

/** A seq record that processes `heads` one after another: the first `startS` after the scan, then evenly over `slotS`. */
function spreadPass(name: string, heads: readonly string[], startS: number, slotS: number): string {
  const stepS = (slotS * SPREAD_SLACK) / heads.length;
  const fields = heads.map((head, i) => {
    const n = i.toString(16).toUpperCase();
    // seq delays are cumulative: each is waited after the previous link.
    const delay = (i === 0 ? startS : stepS).toFixed(6);
    return `field(DLY${n}, "${delay}") field(DO${n}, "1") field(LNK${n}, "${head}.PROC PP")`;
  });
  return `record(seq, "${name}") { field(SELM, "All") ${fields.join(' ')} }`;
}
