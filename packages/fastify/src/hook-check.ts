/**
 * The start-up checks of the hooks routes were given: an `undefined` one, and an imported
 * one no plugin reaches.
 *
 * `{ onRequest: app.authenticate }` is `{ onRequest: undefined }` wherever the plugin has
 * not loaded: after an unawaited `register`, or in a scope the plugin does not reach (a
 * sibling one). Fastify accepts that as a route without the hook, so it would be open.
 * What gives it away is the key itself: Fastify hands `onRoute` hooks the options as
 * written, and a hook option that is present but `undefined` is what an unloaded
 * decoration reads as. A route written without the key is public by intent and is left
 * alone. The imported `authenticate` is never undefined and finds the plugin of the
 * route's scope per request; where no plugin reaches that scope it would answer 500 to
 * every request, so that is refused at start-up too.
 *
 * The routes have to be seen as they are declared, before the plugin has loaded, so the
 * `onRoute` hook is added to every Fastify app when it is created: Fastify publishes each
 * new app on the `fastify.initialization` diagnostics channel. An app created before this
 * module was imported is not seen (`route-check.ts` still finds some of its routes).
 */
import { subscribe } from 'node:diagnostics_channel';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { ZitauthConfigError } from '@zitauth/core';
import { authenticate, authenticateOptional, pluginHookOf } from './hooks.js';

/** The route hooks that run before the handler: where an authenticate hook could sit. */
const HOOKS = ['onRequest', 'preParsing', 'preValidation', 'preHandler'] as const;

/** A route declared with an `undefined` hook, and the scope it was declared in. */
interface UndefinedHook {
  scope: object;
  route: string;
  hook: (typeof HOOKS)[number];
  /** The options Fastify keeps: a later `onRoute` hook may still set the hook. */
  options: RouteOptions;
}

/** A route given an imported hook, which finds the plugin of the route's scope per request. */
interface ImportedHook {
  scope: FastifyInstance;
  route: string;
  hook: (typeof HOOKS)[number];
  name: 'authenticate' | 'authenticateOptional';
  options: RouteOptions;
}

const IMPORTED = { authenticate, authenticateOptional } as const;

/** What one app's `onRoute` hook saw, and where (and when) zitauth plugins loaded in it. */
interface Journal {
  declared: UndefinedHook[];
  imported: ImportedHook[];
  /** `at`: how many routes had been declared when the plugin loaded in `scope`. */
  loads: { scope: object; at: number }[];
}

/** Per app, keyed by its HTTP server (one per app, shared by all its scopes). */
const journals = new WeakMap<object, Journal>();

/** The subscriber to `fastify.initialization`; exported for tests. */
export function observeApp(message: unknown): void {
  const { fastify } = message as { fastify: FastifyInstance };
  const journal: Journal = { declared: [], imported: [], loads: [] };
  try {
    fastify.addHook('onRoute', function (this: FastifyInstance, route: RouteOptions) {
      for (const method of [route.method].flat()) {
        const name = `${method} ${route.url}`;
        for (const hook of HOOKS) {
          const given: unknown = route[hook];
          if (given === undefined && Object.hasOwn(route, hook)) {
            journal.declared.push({ scope: this, route: name, hook, options: route });
          }
          for (const imported of ['authenticate', 'authenticateOptional'] as const) {
            if (!gives(given, IMPORTED[imported])) continue;
            journal.imported.push({
              scope: this,
              route: name,
              hook,
              name: imported,
              options: route,
            });
          }
        }
      }
    });
  } catch {
    // A subscriber that throws would surface as an uncaught exception in the user's app;
    // an app this hook could not be added to is simply not seen.
    return;
  }
  journals.set(fastify.server, journal);
}

subscribe('fastify.initialization', observeApp);

/** Whether a route's hook option holds `hook`, alone or in an array. */
function gives(option: unknown, hook: unknown): boolean {
  return option === hook || (Array.isArray(option) && option.includes(hook));
}

/**
 * Records that a zitauth plugin loaded in `app`'s scope now, and refuses start-up (in an
 * `onReady` hook, before the server listens) if the app has a route declared with an
 * `undefined` hook while no zitauth plugin had loaded in its scope or a parent one, or a
 * route given an imported hook that no zitauth plugin reaches. Returns `false` for an app
 * created before this module was imported, which it cannot check.
 */
export function refuseHooksThatCannotProtect(app: FastifyInstance): boolean {
  const journal = journals.get(app.server);
  if (journal === undefined) return false;
  journal.loads.push({ scope: app, at: journal.declared.length });
  app.addHook('onReady', async () => {
    const open = unprotected(journal);
    if (open.length > 0) throw new ZitauthConfigError(undefinedHooksMessage(open));
    const unreached = journal.imported.filter(
      ({ scope, hook, name, options }) =>
        gives(options[hook], IMPORTED[name]) && pluginHookOf(scope, name) === undefined,
    );
    if (unreached.length > 0) throw new ZitauthConfigError(unreachedMessage(unreached));
  });
  return true;
}

/**
 * The routes whose hook is still `undefined` and that no zitauth plugin explains away: none
 * had loaded in the route's scope or a parent one when the route was declared. Where one
 * had, its decorations were defined there, so the `undefined` came from something else.
 */
function unprotected(journal: Journal): UndefinedHook[] {
  return journal.declared.filter(
    ({ scope, hook, options }, index) =>
      options[hook] === undefined &&
      !journal.loads.some((load) => load.at <= index && encloses(load.scope, scope)),
  );
}

/** Fastify makes each child scope with `Object.create(parent)`. */
function encloses(outer: object, inner: object): boolean {
  return outer === inner || Object.prototype.isPrototypeOf.call(outer, inner);
}

const LISTED = 5;

/** `GET /a (onRequest), … and 2 more`: the first routes, each with what it was given. */
function listed<T extends { route: string }>(routes: readonly T[], given: (of: T) => string) {
  const named = routes
    .slice(0, LISTED)
    .map((of) => `${of.route} (${given(of)})`)
    .join(', ');
  return routes.length > LISTED ? `${named} and ${routes.length - LISTED} more` : named;
}

function undefinedHooksMessage(open: readonly UndefinedHook[]): string {
  const one = open.length === 1;
  return (
    `zitauth: ${listed(open, (of) => of.hook)} ${one ? 'was' : 'were'} declared with an ` +
    `undefined hook where no zitauth plugin had loaded, so ${one ? 'it' : 'they'} would be ` +
    'open: app.authenticate is undefined until await app.register(zitauth, …) has run in the ' +
    "route's scope or a parent one (a plugin in a sibling scope does not reach it). Write " +
    'await app.register(zitauth, …) there before declaring routes, or use the imported hook ' +
    "(import { authenticate } from '@zitauth/fastify'), which is never undefined. " +
    'A public route leaves the hook option out or gives it [] (say, a plugin that passes ' +
    'on an optional hook).'
  );
}

function unreachedMessage(unreached: readonly ImportedHook[]): string {
  const one = unreached.length === 1;
  return (
    `zitauth: ${listed(unreached, (of) => of.name)} ${one ? 'uses' : 'use'} the ` +
    `imported hook, but no zitauth plugin reaches ${one ? 'its scope' : 'their scopes'}, so ` +
    `${one ? 'it' : 'they'} would answer 500 to every request. Register the plugin with ` +
    "await app.register(zitauth, …) in the route's scope or a parent one: a plugin " +
    'registered in a sibling scope does not reach it.'
  );
}
