/**
 * Key files in the exact shape the ZITADEL console downloads: an RSA key as PKCS#1 PEM
 * (`-----BEGIN RSA PRIVATE KEY-----`), which is what trips up loaders built for PKCS#8.
 * The IdP keeps only the public half, registered under the key id.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newId } from './ids.js';
import type { KeyFile } from './types.js';

/** A new RSA key: the PKCS#1 PEM for the key file and the public key for the IdP. */
export function generateRsaKey(): { keyId: string; pem: string; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  return { keyId: newId(), pem, publicKey };
}

/** Writes a key file as JSON (mode 0600) into `dir` or a fresh temp dir; resolves the path. */
export async function writeKeyFile(keyFile: KeyFile, dir?: string): Promise<string> {
  const target = dir ?? (await mkdtemp(join(tmpdir(), 'zitauth-testing-')));
  const path = join(target, `${keyFile.keyId}.json`);
  await writeFile(path, `${JSON.stringify(keyFile, null, 2)}\n`, { mode: 0o600 });
  return path;
}
