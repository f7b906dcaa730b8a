import { CaprotoIoc } from '../../support/ca-caproto-ioc.js';
import { describeSubscriptionContract } from './subscription-contract.js';

describeSubscriptionContract("caproto's server", () => CaprotoIoc.start());
