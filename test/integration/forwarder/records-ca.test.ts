/** Every test IOC record forwarded over Channel Access as f144 and f142 (see record-forwarding.ts). */
import { describeRecordForwarding } from './record-forwarding.js';

describeRecordForwarding('ca');
