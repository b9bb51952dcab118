/**
 * A minimal Model Context Protocol style server: JSON-RPC 2.0 over `POST /mcp`, with
 * `initialize`, `tools/list` and `tools/call` for one tool, protected by zitauth. With
 * `protectedResource` configured, the API tells a client without a token where to get
 * one (RFC 9728): `GET /.well-known/oauth-protected-resource/mcp` answers the metadata
 * document, and every 401 and 403 names it in `resource_metadata`.
 *
 *   GET  /.well-known/oauth-protected-resource/mcp   anyone           the metadata document
 *   POST /mcp                                        role `mcp-user`  JSON-RPC requests
 *
 * `createApp` reads no environment and opens no port; `local.ts` and the tests decide.
 */
import express, { type Express, type Request, type Response } from 'express';
import {
  auth,
  errorHandler,
  getAuth,
  requireRoles,
  resourceMetadata,
  type AuthContext,
  type AuthOptions,
} from '@zitauth/express';

/** The role a caller needs to use the server. */
export const MCP_ROLE = 'mcp-user';

/** A JSON-RPC 2.0 request as this server reads it. */
interface RpcRequest {
  jsonrpc: '2.0';
  id: string | number;
  method: string;
  params?: Record<string, unknown>;
}

/** JSON-RPC 2.0 error codes (§5.1). */
const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;
const METHOD_NOT_FOUND = -32601;
const INVALID_PARAMS = -32602;

/** The one tool: who the server thinks is calling, from the verified token. */
const WHOAMI_TOOL = {
  name: 'whoami',
  description: 'Tells who the server sees calling: subject, client and roles from the token.',
  inputSchema: { type: 'object', properties: {}, additionalProperties: false },
};

function isRpcRequest(value: unknown): value is RpcRequest {
  if (typeof value !== 'object' || value === null) return false;
  const { jsonrpc, id, method, params } = value as Record<string, unknown>;
  return (
    jsonrpc === '2.0' &&
    (typeof id === 'string' || typeof id === 'number') &&
    typeof method === 'string' &&
    (params === undefined || (typeof params === 'object' && params !== null))
  );
}

function rpcError(id: RpcRequest['id'] | null, code: number, message: string) {
  return { jsonrpc: '2.0', id, error: { code, message } };
}

/** `tools/call` of `whoami`: the caller as text content, as MCP tools answer. */
function whoami(caller: AuthContext) {
  const who = {
    subject: caller.subject,
    clientId: caller.clientId,
    roles: Object.keys(caller.roles),
  };
  return { content: [{ type: 'text', text: JSON.stringify(who) }], isError: false };
}

/** The answer to one request: a result, or a JSON-RPC error. */
function answer(request: RpcRequest, caller: AuthContext) {
  switch (request.method) {
    case 'initialize':
      return {
        protocolVersion: '2025-06-18',
        capabilities: { tools: {} },
        serverInfo: { name: 'zitauth-mcp-example', version: '0.1.0' },
      };
    case 'tools/list':
      return { tools: [WHOAMI_TOOL] };
    case 'tools/call':
      if (request.params?.['name'] !== WHOAMI_TOOL.name) {
        return rpcError(request.id, INVALID_PARAMS, 'Unknown tool');
      }
      return whoami(caller);
    default:
      return rpcError(request.id, METHOD_NOT_FOUND, 'Method not found');
  }
}

function handleRpc(req: Request, res: Response): void {
  const request: unknown = req.body;
  if (!isRpcRequest(request)) {
    res.json(rpcError(null, INVALID_REQUEST, 'Invalid Request'));
    return;
  }
  const result = answer(request, getAuth(req));
  res.json('error' in result ? result : { jsonrpc: '2.0', id: request.id, result });
}

/** Options of {@link createApp}. */
export interface AppOptions {
  /**
   * How tokens are checked: verifier options (issuer, projectId, introspection…) with
   * `protectedResource: { resource }`, its URL being this server's `…/mcp` endpoint.
   */
  auth: AuthOptions;
}

/** Builds the server; `app.locals.close()` closes the verifier it built. */
export function createApp(options: AppOptions): Express {
  const app = express();
  const protect = auth(options.auth);
  app.use(resourceMetadata(protect));
  app.post(
    '/mcp',
    protect,
    requireRoles(MCP_ROLE),
    express.json(),
    // body-parser answers malformed JSON with 400; JSON-RPC wants a parse error instead.
    (error: unknown, _req: Request, res: Response, next: (error?: unknown) => void) => {
      if ((error as { type?: unknown }).type !== 'entity.parse.failed') return next(error);
      res.json(rpcError(null, PARSE_ERROR, 'Parse error'));
    },
    handleRpc,
  );
  app.use(errorHandler());
  app.locals['close'] = () => protect.verifier.close();
  return app;
}
