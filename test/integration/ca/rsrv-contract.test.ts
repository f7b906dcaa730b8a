import { TestIoc } from '../../support/ioc.js';
import { describeSubscriptionContract } from './subscription-contract.js';

describeSubscriptionContract("EPICS base's IOC (rsrv)", () => TestIoc.start());
