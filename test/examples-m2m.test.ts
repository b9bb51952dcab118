/**
 * Smoke test of examples/m2m-client: its main function runs in-process, in local mode
 * (testing IdP, no account) and in remote mode (environment variables pointing at a
 * running IdP and API), and never prints the token it got.
 */
import { describe, expect, it } from 'vitest';
import { readConfig } from '../examples/m2m-client/src/config.js';
import { startLocalWorld } from '../examples/m2m-client/src/local.js';
import { main } from '../examples/m2m-client/src/main.js';

describe('examples/m2m-client', () => {
  it('gets a token with its key file and calls the protected API (local mode)', async () => {
    const lines: string[] = [];
    const result = await main({ env: {}, log: (line) => lines.push(line) });
    expect(result).toMatchObject({ mode: 'local', status: 200 });
    expect(result.body).toMatchObject({
      subject: expect.any(String),
      roles: { reader: expect.any(Object) },
    });
    expect(lines.join('\n')).toMatch(/-> 200/);
    // A JWT starts with the base64url of '{"': it must never be printed.
    expect(lines.join('\n')).not.toContain('eyJ');
  });

  it('runs against the IdP and API named by environment variables', async () => {
    const world = await startLocalWorld();
    try {
      const result = await main({
        env: {
          ZITADEL_ISSUER: world.issuer,
          ZITADEL_KEY_FILE: world.keyFile,
          API_URL: world.apiUrl,
          ZITADEL_PROJECT_ID: world.projectId,
        },
        log: () => undefined,
      });
      expect(result).toMatchObject({ mode: 'remote', status: 200 });
    } finally {
      await world.close();
    }
  });

  it('refuses half a configuration instead of falling back to local mode', () => {
    expect(() => readConfig({ ZITADEL_ISSUER: 'https://acme.zitadel.cloud' })).toThrow(
      /set ZITADEL_KEY_FILE, API_URL as well/,
    );
    expect(readConfig({ ZITADEL_ISSUER: ' ' })).toBeUndefined();
    expect(
      readConfig({ ZITADEL_ISSUER: 'https://i', ZITADEL_KEY_FILE: 'k.json', API_URL: 'https://a' }),
    ).toEqual({
      issuer: 'https://i',
      keyFile: 'k.json',
      apiUrl: 'https://a',
      projectId: undefined,
    });
  });
});
