// Packaging: what `npm pack` would publish for each package. Every `exports` target, `bin`
// and type declaration must be in the tarball, with the README, and nothing that is not
// meant for users (build info, tests). Runs against the built dist/ (`npm test` builds first).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PACKAGES = ['core', 'express', 'koa', 'fastify', 'testing', 'gateway', 'redis'];

interface Manifest {
  name: string;
  private?: boolean;
  license?: string;
  engines?: { node?: string };
  exports: Record<string, string | { types: string; default: string }>;
  bin?: Record<string, string>;
}

function packed(dir: string): string[] {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const out = execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const [result] = JSON.parse(out) as [{ files: { path: string }[] }];
  return result.files.map((file) => file.path);
}

function targets(manifest: Manifest): string[] {
  const paths: string[] = [];
  for (const target of Object.values(manifest.exports)) {
    if (typeof target === 'string') paths.push(target);
    else paths.push(target.types, target.default);
  }
  return [...paths, ...Object.values(manifest.bin ?? {})].map((p) => p.replace(/^\.\//, ''));
}

describe.each(PACKAGES)('@zitauth/%s', (name) => {
  const dir = fileURLToPath(new URL(`../packages/${name}/`, import.meta.url));
  const manifest = JSON.parse(readFileSync(`${dir}package.json`, 'utf8')) as Manifest;

  it('is publishable with a license and the supported Node versions', () => {
    expect(manifest.name).toBe(`@zitauth/${name}`);
    expect(manifest.private).toBeUndefined();
    expect(manifest.license).toBe('Apache-2.0');
    expect(manifest.engines?.node).toBe('^20.19.0 || >=22.12.0');
  });

  it('packs every entry point, its types and the README, and no build info or tests', () => {
    const files = packed(dir);
    expect(files).toContain('README.md');
    for (const target of targets(manifest)) expect(files).toContain(target);
    expect(files.filter((file) => /tsbuildinfo|\.test\.|(^|\/)test\//.test(file))).toEqual([]);
  });
});
