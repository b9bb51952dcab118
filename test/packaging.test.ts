// Packaging: what `npm pack` would publish for each package. Every `exports` target, `bin`
// and type declaration must be in the tarball, with the README, the LICENSE and the docs
// the README links to, and nothing that is not meant for users (build info, tests). The
// manifest must say where the code lives and how it builds itself before packing. Runs
// against the built dist/ (`npm test` builds first); test/packaging/fresh-install.test.ts
// installs the real tarballs.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { publishedPackages, root, type Manifest } from './packaging/workspace.js';

const REPOSITORY = 'https://github.com/zitauth/zitauth';

function packed(dir: string): string[] {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const out = execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: join(root, dir),
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

/** Every link target of a Markdown text, anchors within the page excluded. */
function links(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((match) => match[1] ?? '')
    .filter((target) => !target.startsWith('#'));
}

/** The repository path a link points into (`packages/core/docs/x.md`), if it does. */
function repositoryPath(link: string): string | undefined {
  const match = /^https:\/\/github\.com\/zitauth\/zitauth\/(?:blob|tree)\/main\/([^#?]+)/.exec(
    link,
  );
  return match?.[1];
}

const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
const packages = publishedPackages();

it('finds the published packages in the workspace list', () => {
  expect(packages.map((p) => p.manifest.name)).toEqual(
    expect.arrayContaining(['@zitauth/core', '@zitauth/express', '@zitauth/fastify']),
  );
  expect(rootManifest.repository?.url).toBe(`git+${REPOSITORY}.git`);
});

describe.each(packages.map((p) => [p.manifest.name, p] as const))(
  '%s',
  (_name, { dir, manifest }) => {
    it('is publishable with a license, the supported Node versions and a build before packing', () => {
      expect(manifest.name).toBe(`@zitauth/${dir.split('/').pop()}`);
      expect(manifest.license).toBe('Apache-2.0');
      expect(manifest.engines?.node).toBe('^20.19.0 || >=22.12.0');
      expect(manifest.scripts?.['prepack']).toBe('tsc -b');
      expect(readFileSync(join(root, dir, 'LICENSE'), 'utf8')).toBe(
        readFileSync(join(root, 'LICENSE'), 'utf8'),
      );
    });

    it('says where its code, home page and issue tracker are', () => {
      expect(manifest.repository).toEqual({
        type: 'git',
        url: `git+${REPOSITORY}.git`,
        directory: dir,
      });
      expect(manifest.homepage).toBe(`${REPOSITORY}/tree/main/${dir}#readme`);
      expect(manifest.bugs).toEqual({ url: `${REPOSITORY}/issues` });
    });

    it('maps every subpath export in typesVersions, for node10 and CommonJS resolution', () => {
      const subpaths = Object.entries(manifest.exports).filter(
        ([key]) => key !== '.' && key !== './package.json',
      );
      const mapped = manifest.typesVersions?.['*'] ?? {};
      for (const [key, target] of subpaths) {
        expect(typeof target === 'string' ? undefined : mapped[key.slice(2)]).toEqual([
          typeof target === 'string' ? target : target.types,
        ]);
      }
    });

    it('packs every entry point, its types, README, LICENSE and linked docs, and no build info or tests', () => {
      const files = packed(dir);
      expect(files).toEqual(expect.arrayContaining(['README.md', 'LICENSE', ...targets(manifest)]));
      expect(files.filter((file) => /tsbuildinfo|\.test\.|(^|\/)test\//.test(file))).toEqual([]);
      for (const doc of files.filter((file) => file.endsWith('.md'))) {
        for (const link of links(readFileSync(join(root, dir, doc), 'utf8'))) {
          // A relative link is dead on a registry page; an absolute one must point at a file.
          expect(link, `${doc}: ${link}`).toMatch(/^(https?|mailto):/);
          const path = repositoryPath(link);
          if (path === undefined) continue;
          expect(existsSync(join(root, path)), `${doc}: ${link}`).toBe(true);
          if (path.startsWith(`${dir}/`)) expect(files).toContain(path.slice(dir.length + 1));
        }
      }
    });
  },
);

describe('peer dependencies', () => {
  const peers = (name: string): Manifest =>
    packages.find((p) => p.manifest.name === name)?.manifest ?? ({} as Manifest);

  it('start at framework versions without published advisories', () => {
    expect(peers('@zitauth/fastify').peerDependencies?.['fastify']).toBe('^5.3.2');
    expect(peers('@zitauth/koa').peerDependencies?.['koa']).toBe('^2.16.2 || ^3.0.1');
    expect(peers('@zitauth/express').peerDependencies?.['express']).toBe('^4.21.2 || ^5.0.1');
  });

  it('declare the framework type packages their .d.ts files import, as optional', () => {
    for (const [name, types] of [
      ['@zitauth/express', '@types/express'],
      ['@zitauth/koa', '@types/koa'],
    ] as const) {
      expect(peers(name).peerDependencies?.[types]).toBeDefined();
      expect(peers(name).peerDependenciesMeta?.[types]).toEqual({ optional: true });
    }
  });
});
