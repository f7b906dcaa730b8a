/** Every test IOC record forwarded over pvAccess as f144 and f142 (see record-forwarding.ts). */
import { describeRecordForwarding } from './record-forwarding.js';

describeRecordForwarding('pva');
