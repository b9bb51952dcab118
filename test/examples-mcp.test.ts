/**
 * examples/mcp-server over HTTP: the client starts without a token, reads the challenge,
 * fetches the protected resource metadata it names, discovers the testing IdP from
 * `authorization_servers[0]`, gets a token by client credentials and calls the server
 * again; and the server answers JSON-RPC errors and refusals as it should.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { challengeParam, runClient } from '../examples/mcp-server/src/client.js';
import { startLocalWorld, type LocalWorld } from '../examples/mcp-server/src/local.js';
import { main } from '../examples/mcp-server/src/main.js';

let world: LocalWorld;

beforeAll(async () => {
  world = await startLocalWorld();
});
afterAll(async () => {
  await world?.close();
});

/** A JSON-RPC call over HTTP, with a token or not. */
async function call(body: string, token?: string): Promise<Response> {
  return fetch(world.serverUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body,
  });
}

describe('examples/mcp-server', () => {
  it('finds the authorization server from the API, gets a token and calls the tool', async () => {
    const lines: string[] = [];
    const run = await runClient({ ...world, log: (line) => lines.push(line) });
    const metadataUrl = world.serverUrl.replace(
      '/mcp',
      '/.well-known/oauth-protected-resource/mcp',
    );
    expect(run.challenge).toBe(`Bearer realm="api", resource_metadata="${metadataUrl}"`);
    expect(run.metadataUrl).toBe(metadataUrl);
    expect(run.metadata).toEqual({
      resource: world.serverUrl,
      authorization_servers: [world.issuer],
      bearer_methods_supported: ['header'],
      scopes_supported: [
        'openid',
        `urn:zitadel:iam:org:project:id:${world.projectId}:aud`,
        'urn:zitadel:iam:org:projects:roles',
      ],
      resource_name: 'zitauth MCP example',
    });
    expect(run.issuer).toBe(world.issuer);
    expect(run.tokenEndpoint).toBe(`${world.issuer}/oauth/v2/token`);
    expect(run.status).toBe(200);
    expect(run.tools).toMatchObject({ tools: [{ name: 'whoami' }] });
    expect(run.whoami).toMatchObject({ isError: false, content: [{ type: 'text' }] });
    const who = JSON.parse((run.whoami as { content: [{ text: string }] }).content[0].text);
    expect(who).toEqual({
      subject: expect.any(String),
      clientId: world.clientId,
      roles: ['mcp-user'],
    });
    // A JWT starts with the base64url of '{"': it must never be printed.
    expect(lines.join('\n')).not.toContain('eyJ');
  });

  it('runs as a script in local mode, stopping what it started', async () => {
    const run = await main({ env: {}, log: () => undefined });
    expect(run).toMatchObject({ mode: 'local', status: 200 });
  });

  it('runs against a server named by environment variables', async () => {
    const env = {
      MCP_SERVER_URL: world.serverUrl,
      MCP_CLIENT_ID: world.clientId,
      MCP_CLIENT_SECRET: world.clientSecret,
    };
    expect(await main({ env, log: () => undefined })).toMatchObject({
      mode: 'remote',
      status: 200,
    });
    await expect(
      main({ env: { MCP_SERVER_URL: world.serverUrl }, log: () => undefined }),
    ).rejects.toThrow(/set MCP_CLIENT_ID and MCP_CLIENT_SECRET/);
  });

  it('stops at a client the authorization server refuses', async () => {
    await expect(runClient({ ...world, clientSecret: 'wrong' })).rejects.toThrow(
      /token request: HTTP 401/,
    );
  });

  it('answers JSON-RPC errors for a bad body, an unknown method and an unknown tool', async () => {
    const { clientId, clientSecret } = world;
    const basic = Buffer.from(`${clientId}:${clientSecret}`).toString('base64');
    const tokenResponse = await fetch(`${world.issuer}/oauth/v2/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: `urn:zitadel:iam:org:project:id:${world.projectId}:aud urn:zitadel:iam:org:projects:roles`,
      }),
    });
    const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
    const error = async (body: string) =>
      ((await (await call(body, token)).json()) as { error: unknown }).error;
    expect(await error('{')).toEqual({ code: -32700, message: 'Parse error' });
    expect(await error('{"jsonrpc":"1.0"}')).toEqual({ code: -32600, message: 'Invalid Request' });
    expect(await error('{"jsonrpc":"2.0","id":1,"method":"prompts/list"}')).toEqual({
      code: -32601,
      message: 'Method not found',
    });
    expect(
      await error('{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"rm"}}'),
    ).toEqual({
      code: -32602,
      message: 'Unknown tool',
    });
    const initialized = await (
      await call('{"jsonrpc":"2.0","id":3,"method":"initialize"}', token)
    ).json();
    expect(initialized).toMatchObject({
      id: 3,
      result: { serverInfo: { name: 'zitauth-mcp-example' } },
    });
  });

  it('refuses a caller without the role with 403, and a bad token with 401, naming the metadata', async () => {
    const stranger = world.idp.createServiceUser({ userName: 'stranger' });
    const token = await world.idp.mintAccessToken({
      subject: stranger.userId,
      clientId: stranger.clientId,
    });
    const forbidden = await call('{"jsonrpc":"2.0","id":1,"method":"tools/list"}', token);
    expect(forbidden.status).toBe(403);
    const challenge = forbidden.headers.get('www-authenticate') ?? '';
    expect(challengeParam(challenge, 'error')).toBe('insufficient_scope');
    expect(challengeParam(challenge, 'resource_metadata')).toMatch(
      /oauth-protected-resource\/mcp$/,
    );
    const bad = await call('{"jsonrpc":"2.0","id":1,"method":"tools/list"}', 'not-a-token');
    expect(bad.status).toBe(401);
    const badChallenge = bad.headers.get('www-authenticate') ?? '';
    expect(challengeParam(badChallenge, 'error')).toBe('invalid_token');
    expect(challengeParam(badChallenge, 'resource_metadata')).toBe(
      challengeParam(challenge, 'resource_metadata'),
    );
  });
});
