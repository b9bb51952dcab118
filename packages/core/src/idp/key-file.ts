/**
 * ZITADEL key files, as downloaded from the console: an application key (for
 * introspection or token-endpoint client auth) or a service-user key (for the JWT bearer
 * grant). The private key is PKCS#1 PEM, which jose's `importPKCS8` refuses, so it is
 * loaded with node:crypto's `createPrivateKey` (jose signs with a `KeyObject`). Files
 * pasted into environment variables often carry escaped `\n`; those are repaired.
 * Everything here runs at construction time and throws `ZitauthConfigError`, naming the
 * missing field but never echoing key material.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ZitauthConfigError } from '../errors.js';

/** An application key file (`"type": "application"`). */
export interface ApplicationKeyFile {
  type: 'application';
  keyId: string;
  key: string;
  appId: string;
  clientId: string;
}

/** A service-user key file (`"type": "serviceaccount"`). */
export interface ServiceAccountKeyFile {
  type: 'serviceaccount';
  keyId: string;
  key: string;
  userId: string;
}

/** Either kind of ZITADEL key file, as JSON. */
export type KeyFile = ApplicationKeyFile | ServiceAccountKeyFile;

/** A key file given as a file path, a JSON string or a parsed object. */
export type KeyFileInput = string | KeyFile;

/** A loaded key: who signs (`clientId` or `userId`), with which key id and key. */
export interface LoadedKey {
  type: KeyFile['type'];
  /** `clientId` for application keys, `userId` for service-user keys. */
  subject: string;
  keyId: string;
  privateKey: KeyObject;
}

function invalid(message: string, cause?: unknown): ZitauthConfigError {
  return new ZitauthConfigError(
    `zitauth: ${message}`,
    'ERR_ZITAUTH_INVALID_KEY_FILE',
    cause === undefined ? undefined : { cause },
  );
}

function parseInput(input: KeyFileInput, name: string): Record<string, unknown> {
  if (typeof input === 'object' && input !== null)
    return input as unknown as Record<string, unknown>;
  if (typeof input !== 'string' || input.trim() === '') {
    throw invalid(`${name} must be a key file path, its JSON text or the parsed object`);
  }
  const text = input.trim().startsWith('{') ? input : readKeyFileText(input, name);
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) return parsed as Record<string, unknown>;
  } catch (cause) {
    throw invalid(`${name} is not valid JSON (a ZITADEL key file is a JSON document)`, cause);
  }
  throw invalid(`${name} is not a JSON object`);
}

/**
 * Reads a key file by path. The path and the system error go into the message, since
 * "file not found" is the usual start-up mistake; but a value that looks like key
 * material (a PEM pasted where a path belongs) is never echoed.
 */
function readKeyFileText(path: string, name: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (cause) {
    const looksLikeKey = path.length > 1024 || /-----BEGIN|[\r\n]/.test(path);
    const where = looksLikeKey
      ? 'from the given value (it is neither JSON nor a file path)'
      : `at ${JSON.stringify(path)}`;
    // The system error's own message repeats the path: not kept when that is key material.
    const message = `${name}: cannot read the key file ${where}: ${systemError(cause)}`;
    throw invalid(message, looksLikeKey ? undefined : cause);
  }
}

/** `ENOENT: no such file or directory`: the code and the reason, without the path again. */
function systemError(error: unknown): string {
  const { code, message } = error as { code?: unknown; message?: unknown };
  const reason = typeof message === 'string' ? message.replace(/,[\s\S]*$/, '') : String(error);
  return typeof code === 'string' && !reason.startsWith(code) ? `${code}: ${reason}` : reason;
}

function requireString(file: Record<string, unknown>, field: string, name: string): string {
  const value = file[field];
  if (typeof value !== 'string' || value === '') {
    throw invalid(`${name} has no "${field}" (is this a ZITADEL key file?)`);
  }
  return value;
}

/** Loads a PEM private key (PKCS#1 or PKCS#8), repairing escaped newlines. */
export function loadPrivateKey(pem: string, name = 'key'): KeyObject {
  const text = pem.includes('\\n') ? pem.replace(/\\n/g, '\n') : pem;
  try {
    const key = createPrivateKey({ key: text, format: 'pem' });
    if (key.asymmetricKeyType !== 'rsa') throw new Error('not an RSA key');
    return key;
  } catch (cause) {
    throw invalid(`${name} does not hold a readable RSA private key in PEM form`, cause);
  }
}

/**
 * Reads and checks a key file. `expected` restricts the type: introspection needs an
 * application key, the JWT bearer grant a service-user key.
 */
export function loadKeyFile(
  input: KeyFileInput,
  expected?: KeyFile['type'],
  name = 'keyFile',
): LoadedKey {
  const file = parseInput(input, name);
  const type = requireString(file, 'type', name);
  if (type !== 'application' && type !== 'serviceaccount') {
    throw invalid(
      `${name} has type "${type.slice(0, 40)}"; expected "application" or "serviceaccount"`,
    );
  }
  if (expected !== undefined && type !== expected) {
    throw invalid(
      `${name} is a "${type}" key file, but this needs a "${expected}" key file` +
        (expected === 'application'
          ? ' (create a key on the API application in the ZITADEL console)'
          : ' (create a key on the service user in the ZITADEL console)'),
    );
  }
  const subject = requireString(file, type === 'application' ? 'clientId' : 'userId', name);
  const keyId = requireString(file, 'keyId', name);
  const privateKey = loadPrivateKey(requireString(file, 'key', name), name);
  return { type, subject, keyId, privateKey };
}
