/** The EPICS protocols a stream can use (fc00's Protocol PVA / CA / FAKE), and how they are named to people. */

export const EPICS_PROTOCOLS = ['ca', 'pva', 'fake'] as const;

export type EpicsProtocol = (typeof EPICS_PROTOCOLS)[number];

/** How protocols are named in status JSON and logs, as the ESS forwarder names them. */
export const PROTOCOL_LABEL: { readonly [P in EpicsProtocol]: string } = {
  ca: 'CA',
  pva: 'PVA',
  fake: 'FAKE',
};
