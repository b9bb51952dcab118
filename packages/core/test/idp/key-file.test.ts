/**
 * ZITADEL key files: every accepted input form (path, JSON text, parsed object), the
 * repair of escaped newlines, the type restriction, and the coded `ZitauthConfigError`
 * for each mistake, which must never echo key material.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ZitauthConfigError } from '../../src/errors.js';
import { loadKeyFile, loadPrivateKey, type KeyFileInput } from '../../src/idp/key-file.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PKCS1 = rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const PKCS8 = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const EC = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

const APPLICATION = {
  type: 'application',
  keyId: '81693565968962154',
  key: PKCS1,
  appId: '81693565968896618',
  clientId: '78366401571920522@acme',
} as const;
const SERVICE_ACCOUNT = {
  type: 'serviceaccount',
  keyId: '181828078849229095',
  key: PKCS1,
  userId: '181828061098934529',
} as const;

const tempDir = mkdtempSync(join(tmpdir(), 'zitauth-key-file-'));
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

function writeTemp(name: string, content: string): string {
  const path = join(tempDir, name);
  writeFileSync(path, content);
  return path;
}

function loadError(load: () => unknown): ZitauthConfigError {
  let caught: unknown;
  try {
    load();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ZitauthConfigError);
  const error = caught as ZitauthConfigError;
  expect(error.code).toBe('ERR_ZITAUTH_INVALID_KEY_FILE');
  expect(error.message).not.toContain('PRIVATE KEY');
  return error;
}

/** The loaded key is the one in the file: same public half. */
function expectSameKey(loaded: ReturnType<typeof loadKeyFile>): void {
  expect(loaded.privateKey.type).toBe('private');
  expect(loaded.privateKey.asymmetricKeyType).toBe('rsa');
  expect(loaded.privateKey.export({ type: 'pkcs1', format: 'pem' })).toBe(PKCS1);
}

describe('loadKeyFile', () => {
  it('loads an application key: subject = clientId', () => {
    const loaded = loadKeyFile(APPLICATION);
    expect(loaded).toMatchObject({
      type: 'application',
      subject: APPLICATION.clientId,
      keyId: APPLICATION.keyId,
    });
    expectSameKey(loaded);
  });

  it('loads a service-user key: subject = userId', () => {
    const loaded = loadKeyFile(SERVICE_ACCOUNT, 'serviceaccount');
    expect(loaded).toMatchObject({
      type: 'serviceaccount',
      subject: SERVICE_ACCOUNT.userId,
      keyId: SERVICE_ACCOUNT.keyId,
    });
    expectSameKey(loaded);
  });

  it('reads a file path', () => {
    const path = writeTemp('app.json', JSON.stringify(APPLICATION, null, 2));
    expectSameKey(loadKeyFile(path, 'application'));
  });

  it('reads the JSON text, also with surrounding whitespace', () => {
    expectSameKey(loadKeyFile(JSON.stringify(APPLICATION)));
    expectSameKey(loadKeyFile(`\n  ${JSON.stringify(APPLICATION)}\n`));
  });

  it('repairs literal \\n in the key (a file pasted into an environment variable)', () => {
    const escaped = { ...APPLICATION, key: PKCS1.replace(/\n/g, '\\n') };
    expectSameKey(loadKeyFile(escaped));
    expectSameKey(loadKeyFile(JSON.stringify(escaped)));
  });

  it('accepts a PKCS#8 key', () => {
    expectSameKey(loadKeyFile({ ...APPLICATION, key: PKCS8 }));
  });

  it('names the path it tried and the system error when the file is missing', () => {
    const path = join(tempDir, 'nope.json');
    expect(() => loadKeyFile(path, 'application', 'introspection.keyFile')).toThrow(
      `zitauth: introspection.keyFile: cannot read the key file at ${JSON.stringify(path)}: ` +
        'ENOENT: no such file or directory',
    );
  });

  it('never echoes key material pasted where a path belongs', () => {
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEsecret\n-----END RSA PRIVATE KEY-----';
    expect(() => loadKeyFile(pem)).toThrow(
      /^zitauth: keyFile: cannot read the key file from the given value \(it is neither JSON nor a file path\): E[A-Z]+: /,
    );
    expect(() => loadKeyFile(pem)).not.toThrow(/MIIEsecret|BEGIN/);
  });

  it('ignores extra fields', () => {
    const withExpiry = { ...APPLICATION, expirationDate: '9999-12-31T23:59:59Z' };
    expectSameKey(loadKeyFile(withExpiry));
  });

  it.each([
    ['an empty string', '', /keyFile must be a key file path, its JSON text or the parsed object/],
    ['a blank string', '   ', /must be a key file path/],
    ['a number', 42, /must be a key file path/],
    ['undefined', undefined, /must be a key file path/],
    ['null', null, /must be a key file path/],
    ['invalid JSON text', '{"type": "application",', /is not valid JSON/],
    ['a directory', tempDir, /cannot read the key file at ".*": EISDIR: illegal operation/],
    ['an empty object', {}, /has no "type"/],
    ['a non-string type', { ...APPLICATION, type: 1 }, /has no "type"/],
    [
      'an unknown type',
      { ...APPLICATION, type: 'x'.repeat(100) },
      /expected "application" or "serviceaccount"/,
    ],
    [
      'an application key without clientId',
      { ...APPLICATION, clientId: undefined },
      /no "clientId"/,
    ],
    ['a service-user key without userId', { ...SERVICE_ACCOUNT, userId: '' }, /no "userId"/],
    ['a key file without keyId', { ...APPLICATION, keyId: undefined }, /no "keyId"/],
    ['a key file without key', { ...APPLICATION, key: '' }, /no "key"/],
    ['a garbage key', { ...APPLICATION, key: 'garbage' }, /readable RSA private key/],
    ['an EC key', { ...APPLICATION, key: EC }, /readable RSA private key/],
    [
      'a public key',
      { ...APPLICATION, key: rsa.publicKey.export({ type: 'spki', format: 'pem' }) },
      /readable RSA private key/,
    ],
  ])('rejects %s', (_name, input, message) => {
    const error = loadError(() => loadKeyFile(input as unknown as KeyFileInput));
    expect(error.message).toMatch(/^zitauth: keyFile/);
    expect(error.message).toMatch(message);
  });

  it('rejects JSON text that is not an object', () => {
    const path = writeTemp('null.json', 'null');
    expect(loadError(() => loadKeyFile(path)).message).toMatch(/is not a JSON object/);
    const array = writeTemp('array.json', '[1]');
    expect(loadError(() => loadKeyFile(array)).message).toMatch(/has no "type"/);
  });

  it('cuts a long unknown type short in the message', () => {
    const error = loadError(() => loadKeyFile({ ...APPLICATION, type: 'y'.repeat(100) } as never));
    expect(error.message).toContain(`"${'y'.repeat(40)}"`);
    expect(error.message).not.toContain('y'.repeat(41));
  });

  it('keeps the underlying error as the cause', () => {
    expect(loadError(() => loadKeyFile('{oops')).cause).toBeInstanceOf(SyntaxError);
    expect(loadError(() => loadKeyFile(join(tempDir, 'nope.json'))).cause).toBeInstanceOf(Error);
    expect(loadError(() => loadKeyFile({ ...APPLICATION, key: 'x' })).cause).toBeInstanceOf(Error);
  });

  it('has no cause when nothing underlying failed', () => {
    expect('cause' in loadError(() => loadKeyFile({} as KeyFileInput))).toBe(false);
  });

  it('restricts the type and says where to create the right key', () => {
    expect(loadError(() => loadKeyFile(SERVICE_ACCOUNT, 'application')).message).toBe(
      'zitauth: keyFile is a "serviceaccount" key file, but this needs a "application" key file' +
        ' (create a key on the API application in the ZITADEL console)',
    );
    expect(loadError(() => loadKeyFile(APPLICATION, 'serviceaccount')).message).toBe(
      'zitauth: keyFile is a "application" key file, but this needs a "serviceaccount" key file' +
        ' (create a key on the service user in the ZITADEL console)',
    );
  });

  it('names the option in every message', () => {
    expect(
      loadError(() => loadKeyFile({} as KeyFileInput, undefined, 'tokenClient.keyFile')).message,
    ).toBe('zitauth: tokenClient.keyFile has no "type" (is this a ZITADEL key file?)');
  });

  it('reads a path whose content is not JSON as a JSON error', () => {
    const path = writeTemp('key.pem', PKCS1);
    const error = loadError(() => loadKeyFile(path));
    expect(error.message).toMatch(/is not valid JSON/);
  });
});

describe('loadPrivateKey', () => {
  it('loads PKCS#1 and PKCS#8 PEM', () => {
    expect(loadPrivateKey(PKCS1).asymmetricKeyType).toBe('rsa');
    expect(loadPrivateKey(PKCS8).asymmetricKeyType).toBe('rsa');
  });

  it('repairs escaped newlines', () => {
    expect(loadPrivateKey(PKCS1.replace(/\n/g, '\\n')).asymmetricKeyType).toBe('rsa');
  });

  it('names the key in its error, with the default name "key"', () => {
    expect(loadError(() => loadPrivateKey('nope')).message).toBe(
      'zitauth: key does not hold a readable RSA private key in PEM form',
    );
    expect(loadError(() => loadPrivateKey(EC, 'signingKey')).message).toMatch(
      /^zitauth: signingKey/,
    );
  });
});
