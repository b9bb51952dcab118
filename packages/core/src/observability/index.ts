/**
 * Observability: how zitauth speaks to the people who run it. Decisions, cache look-ups
 * and IdP calls are published on `node:diagnostics_channel` (`channels.ts`), at the seams
 * and only when someone subscribes; faults the operator must fix are typed
 * (`operator-fault.ts`) and reported once per cause per interval (`operator-log.ts`).
 */
export {
  CHANNELS,
  type CacheMessage,
  type IdpCallMessage,
  type IdpEndpoint,
  type RefusedMessage,
  type VerifiedMessage,
} from './channels.js';
export {
  describeCause,
  findOperatorFault,
  OperatorFault,
  reportOperatorFault,
  type OperatorFaultKind,
  type OperatorFaultOptions,
} from './operator-fault.js';
export {
  createOperatorLog,
  operatorFaultOf,
  type OperatorLog,
  type OperatorLogOptions,
} from './operator-log.js';
export { traceIdpCall, type IdpCallNote } from './idp-calls.js';
