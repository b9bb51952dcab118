/**
 * The packages as a stranger gets them: `npm pack` every published workspace (its prepack
 * builds it), install the tarballs with the frameworks from the registry into a fresh
 * project under the system temp directory (no workspace links can reach it), then compile
 * and run that project: Express 5 ESM TypeScript (nodenext, strict), Express 4 CommonJS
 * JavaScript, Koa with @koa/router, Fastify, a vitest file using @zitauth/testing, and one
 * file importing every entry point under nodenext, bundler and node10 resolution.
 * Framework versions follow the workspace's lock file, so npm's cache usually serves them.
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishedPackages, root } from './workspace.js';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const work = mkdtempSync(join(tmpdir(), 'zitauth-fresh-install-'));
const project = join(work, 'project');

/** A user's shell: none of the variables npm or vitest set for this run. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(npm_|NODE_OPTIONS$|VITEST|TEST$)/i.test(name)) env[name] = value;
  }
  return env;
}

/** Runs a command; on failure, throws with everything it printed (tsc reports on stdout). */
function run(command: string, args: string[], cwd = project): string {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: cleanEnv(),
    maxBuffer: 16 * 1024 * 1024,
  });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`);
  }
  return result.stdout;
}

/**
 * `name@version` as installed in the workspace, so the fresh project gets the same; an
 * alias installed there (`express4`) becomes `alias@npm:real@version`.
 */
function workspaceVersion(name: string): string {
  const manifest = join(root, 'node_modules', name, 'package.json');
  const real = JSON.parse(readFileSync(manifest, 'utf8')) as { name: string; version: string };
  return real.name === name
    ? `${name}@${real.version}`
    : `${name}@npm:${real.name}@${real.version}`;
}

/**
 * Runs tsc and returns the errors in the user's code or in our packages. skipLibCheck
 * (tsc --init's default, kept in the bundler and node10 configs) would hide a broken .d.ts
 * of ours; without it, third-party typings may clash among themselves (this one project
 * holds every framework), so only errors under src/ or @zitauth/ count.
 */
function compile(...args: string[]): string[] {
  const result = spawnSync(process.execPath, [tsc, '-p', ...args], {
    cwd: project,
    encoding: 'utf8',
  });
  return result.stdout.split('\n').filter((line) => /^(src\/|node_modules\/@zitauth\/)/.test(line));
}

/** The errors of the nodenext build, which also emits dist/ for the run tests. */
let nodenext: string[] = [];

beforeAll(() => {
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs);
  const workspaces = publishedPackages().flatMap(({ dir }) => ['-w', dir]);
  run(npm, ['pack', ...workspaces, '--pack-destination', tarballs, '--silent'], root);
  cpSync(join(root, 'test/packaging/fresh-project'), project, { recursive: true });
  const frameworks = [
    workspaceVersion('express'),
    workspaceVersion('express4'),
    workspaceVersion('koa'),
    workspaceVersion('@koa/router'),
    workspaceVersion('fastify'),
    workspaceVersion('vitest'),
    workspaceVersion('@types/express'),
    workspaceVersion('@types/koa'),
    workspaceVersion('@types/node'),
  ];
  const packed = readdirSync(tarballs).map((file) => join(tarballs, file));
  run(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', ...packed, ...frameworks]);
  nodenext = compile('tsconfig.json', '--skipLibCheck', 'false');
}, 300_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
}, 120_000);

const ANSWERS = [
  '401 Bearer realm="api" {"error":"unauthorized","error_description":"No access token was sent"}',
  '200 - {"subject":"100000000000000001"}',
  '403 Bearer realm="api", error="insufficient_scope", error_description="The access token does not grant the required permission" {"error":"insufficient_scope","error_description":"The access token does not grant the required permission"}',
  '200 - {"admin":"100000000000000002"}',
];

describe('a fresh project with the packed tarballs', { timeout: 120_000 }, () => {
  it('holds real copies of the packages, not links into the workspace', () => {
    for (const { manifest } of publishedPackages()) {
      const installed = realpathSync(join(project, 'node_modules', manifest.name));
      expect(installed.startsWith(realpathSync(project))).toBe(true);
    }
  });

  it('compiles the TypeScript apps and our declaration files under nodenext, strict', () => {
    expect(nodenext).toEqual([]);
  });

  it.each(['tsconfig.bundler.json', 'tsconfig.node10.json'])(
    'type-checks every entry point and subpath with %s',
    (config) => {
      expect(run(process.execPath, [tsc, '-p', config])).toBe('');
    },
  );

  it.each(['dist/express5.js', 'src/express4.cjs', 'dist/koa.js', 'dist/fastify.js'])(
    'runs %s: 401, 200, 403, 200 over HTTP',
    (entry) => {
      const out = run(process.execPath, [entry]).trim().split('\n').pop() ?? '';
      expect(JSON.parse(out)).toEqual(ANSWERS);
    },
  );

  it("runs the user's vitest file against @zitauth/testing", () => {
    const vitest = join(project, 'node_modules', 'vitest', 'vitest.mjs');
    const out = run(process.execPath, [vitest, 'run', '--reporter=json']);
    const report = JSON.parse(out) as { numPassedTests: number; numFailedTests: number };
    expect(report).toMatchObject({ numPassedTests: 2, numFailedTests: 0 });
  });
});
