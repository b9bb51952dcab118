/**
 * Answers to zitauth used in a way that cannot protect a route: a guard where no
 * authentication ran, a factory the framework called as if it were its middleware. Both
 * are the server's mistake, not the caller's: a 500 with a generic body, and an operator
 * fault that names the fix.
 */
import { MisuseError } from '../errors.js';
import { reportOperatorFault } from '../observability/operator-fault.js';

/**
 * The error of a guard that ran where no authentication did: `auth` is `undefined` only
 * then (authentication sets the caller or `null`). Answering 401 "no token" would send a
 * caller with a valid token looking for a fault that is the server's, so it is a 500
 * whose operator fault says what to change.
 */
export function guardWithoutAuth(guard: string): MisuseError {
  const fault = reportOperatorFault(
    'misuse',
    `zitauth: ${guard} ran on a request no authentication ran for, so it cannot know the ` +
      'caller and answers 500. An auth() / authenticate must run before this guard: in ' +
      'Express and Koa put auth() before it (app.use(auth(…)), or in the route before the ' +
      'guard); in Fastify give the route onRequest: app.authenticate (or register protect in ' +
      'its scope) and put the guard in preHandler.',
  );
  return new MisuseError({ cause: fault });
}

/**
 * `app.use(auth)`, or a guard factory given to a route uncalled (`requireRoles` for
 * `requireRoles('admin')`): the framework calls the factory with its request (Express
 * `req`, Koa `ctx`, Fastify `request`). That is refused with a 500 whose operator fault
 * names the missing call, rather than with a complaint about the request's own fields
 * (`unknown option "_events"`) or a list of strings it is not. Nothing that looks like a
 * request is a valid first argument of any factory, so nothing valid is refused.
 */
export function refuseRequestArgument(value: unknown, factory: string, usage: string): void {
  if (!isRequestShaped(value)) return;
  const fault = reportOperatorFault(
    'misuse',
    `zitauth: ${factory} was used as a middleware itself, so the framework called it with ` +
      'a request, and it answers 500. It makes the middleware: call it and use what it ' +
      `returns, e.g. ${usage}.`,
  );
  throw new MisuseError({ cause: fault });
}

/** Express's `req` and Fastify's `request` have both; Koa's `ctx` holds `req` and `res`. */
function isRequestShaped(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return ('method' in value && 'headers' in value) || ('req' in value && 'res' in value);
}
