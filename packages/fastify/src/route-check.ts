/**
 * The start-up check for routes declared while the plugin had not loaded yet.
 *
 * After `app.register(zitauth, …)` without `await`, `{ onRequest: app.authenticate }` is
 * `{ onRequest: undefined }`: no plugin code has run, and Fastify accepts the route as a
 * public one. Such a route is told apart by one thing only: Fastify gives each route the
 * error handler its scope has once the plugins queued before it have loaded, so a route
 * declared between the unawaited `register` and the load gets zitauth's handler although
 * the plugin never saw it declared. Fastify has no structured view of its routes, so the
 * check reads `printRoutes()`, which names each route's error handler and hooks.
 */
import type { FastifyInstance, RouteOptions } from 'fastify';
import { ZitauthConfigError } from '@zitauth/core';

/** The name of zitauth's error handler (error-handler.ts), as Fastify prints it. */
const HANDLER = 'zitauthErrorHandler';
/** The name of every authenticate hook zitauth hands out, imported or decorated. */
const HOOK = 'zitauthHook()';

/** One route as `printRoutes()` shows it. */
export interface PrintedRoute {
  methods: string[];
  path: string;
  errorHandler?: string;
  onRequest: string[];
}

/** Routes declared after a zitauth plugin loaded in their scope, per app (shared by all its scopes). */
const declaredAfterLoad = new WeakMap<object, Set<string>>();

/**
 * Records the routes declared from now on in `app`'s scope, and refuses start-up (in an
 * `onReady` hook, before the server listens) if a route carries zitauth's error handler
 * without having been declared after the load and without zitauth's authenticate hook.
 */
export function refuseRoutesDeclaredBeforeLoad(app: FastifyInstance): void {
  const seen = declaredAfterLoad.get(app.server) ?? new Set<string>();
  declaredAfterLoad.set(app.server, seen);
  app.addHook('onRoute', (route: RouteOptions) => {
    for (const method of [route.method].flat()) seen.add(routeKey(method, route.url));
  });
  app.addHook('onReady', async () => {
    const text = app.printRoutes({
      commonPrefix: false,
      includeMeta: ['errorHandler', 'onRequest'],
    });
    const open = openRoutes(parseRoutes(text), seen);
    if (open.length > 0) throw new ZitauthConfigError(openRoutesMessage(open));
  });
}

/**
 * The routes of `routes` that zitauth cannot vouch for: zitauth's error handler, not seen
 * declared after the load, no zitauth authenticate hook. A route is one entry per method.
 */
export function openRoutes(routes: readonly PrintedRoute[], seen: ReadonlySet<string>): string[] {
  const open: string[] = [];
  for (const route of routes) {
    if (route.errorHandler === undefined || !isZitauthHandler(route.errorHandler)) continue;
    if (route.onRequest.includes(HOOK)) continue;
    for (const method of route.methods) {
      if (!seen.has(routeKey(method, route.path))) open.push(`${method} ${route.path}`);
    }
  }
  return open;
}

function isZitauthHandler(printed: string): boolean {
  return printed === `${HANDLER}()` || printed === `bound ${HANDLER}()`;
}

/**
 * How a route is compared. The printed path differs from the declared one in ways the
 * router makes it differ: a prefixed `/` route is also registered with a trailing slash,
 * parameter names sharing a node are printed together (`:id|:name`), and a wildcard is
 * printed without the part of its path above the nearest route. These are folded away:
 * a route declared too early that differs from a later one only there is not found.
 */
export function routeKey(method: string, path: string): string {
  const folded = path
    .toLowerCase()
    .replace(/\/{2,}/g, '/')
    .replace(/:[^/]*/g, ':')
    .replace(/^.*\*.*$/, '*')
    .replace(/(.)\/$/, '$1');
  return `${method.toUpperCase()} ${folded}`;
}

const TREE_INDENT = /^((?:│ {3}| {4})*)(├── |└── )?(.*)$/u;
const ROUTE_LINE = /^(.*?) \(([A-Z][A-Z, -]*)\)(?: \{.*\})?$/;
const META_LINE = /^• \((\w+)\) (.*)$/u;

/**
 * Parses `printRoutes({ commonPrefix: false, includeMeta: [...] })`. A node line gives the
 * part of the path below its parent node; each route of that node follows it with its
 * methods and then its meta lines. Throws if a line mentions zitauth's handler and the
 * output around it could not be read: a Fastify whose printout changed fails start-up
 * rather than letting a route through unchecked.
 */
export function parseRoutes(text: string): PrintedRoute[] {
  const routes: PrintedRoute[] = [];
  const pathAtDepth: string[] = [];
  let current: PrintedRoute | undefined;
  let depth = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const [, indent = '', branch, rest = ''] = TREE_INDENT.exec(line) ?? [];
    const meta = META_LINE.exec(rest);
    if (meta !== null && current !== undefined) {
      if (!addMeta(current, meta[1] ?? '', meta[2] ?? '') && rest.includes(HANDLER)) {
        throw unreadable(line);
      }
      continue;
    }
    const route = ROUTE_LINE.exec(rest);
    if (branch !== undefined) depth = indent.length / 4;
    if (route === null) {
      current = undefined;
      if (rest.includes(HANDLER)) throw unreadable(line);
      continue;
    }
    const segment = route[1] ?? '';
    if (branch !== undefined) pathAtDepth[depth] = (pathAtDepth[depth - 1] ?? '') + segment;
    current = {
      methods: (route[2] ?? '').split(', '),
      path: pathAtDepth[depth] ?? segment,
      onRequest: [],
    };
    routes.push(current);
  }
  return routes;
}

/** Adds a meta line's value to `route`; `false` if it is not the JSON it should be. */
function addMeta(route: PrintedRoute, name: string, json: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return false;
  }
  if (name === 'errorHandler') route.errorHandler = String(value);
  if (name === 'onRequest') {
    route.onRequest = [value].flat().filter((hook) => typeof hook === 'string');
  }
  return true;
}

function unreadable(line: string): ZitauthConfigError {
  return new ZitauthConfigError(
    `zitauth: could not read Fastify's route list (printRoutes) to check for routes declared ` +
      `before the plugin loaded; unexpected line: ${line.trim()}. ` +
      'Report this with your Fastify version.',
  );
}

const LISTED = 5;

function openRoutesMessage(open: readonly string[]): string {
  const named = open.slice(0, LISTED).join(', ');
  const more = open.length > LISTED ? ` and ${open.length - LISTED} more` : '';
  return (
    `zitauth: ${named}${more} ${open.length === 1 ? 'was' : 'were'} declared after ` +
    'app.register(zitauth, …) without await, before the plugin loaded, when ' +
    'app.authenticate was still undefined, so it would be open. Write ' +
    'await app.register(zitauth, …) before declaring routes, or use the imported hook ' +
    "(import { authenticate } from '@zitauth/fastify'). A public route declared there " +
    'is refused too: the plugin cannot tell it from one whose hook was undefined.'
  );
}
