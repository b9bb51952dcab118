/**
 * Every fenced `ts` block of every README (and the docs they link) type-checks under the
 * project's strict settings, against the packages' sources. Each block is its own module.
 * Two conventions give a block the context a reader already has, both visible in the raw
 * Markdown right above the fence:
 *
 *   <!-- ts-setup
 *   import type { Request } from 'express';
 *   declare const req: Request;
 *   -->
 *
 * declares names the snippet uses without showing them; it may hold only `import` and
 * `declare` lines, so no code can hide there. `<!-- ts-continues -->` compiles the block
 * after the previous block of the same file, for a text that builds one example in steps.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/** One fenced block, with the setup and earlier blocks it builds on. */
interface Snippet {
  file: string;
  line: number;
  source: string;
}

function markdownFiles(): string[] {
  const files = ['README.md'];
  for (const parent of ['packages', 'examples']) {
    for (const name of readdirSync(join(root, parent))) {
      const dir = join(parent, name);
      if (existsSync(join(root, dir, 'README.md'))) files.push(join(dir, 'README.md'));
      if (existsSync(join(root, dir, 'docs'))) {
        for (const doc of readdirSync(join(root, dir, 'docs')).filter((f) => f.endsWith('.md'))) {
          files.push(join(dir, 'docs', doc));
        }
      }
    }
  }
  return files;
}

/** The HTML comments right above a fence (each one matched without crossing its end). */
const COMMENTS = /((?:<!--(?:(?!-->)[\s\S])*-->\s*)*)$/;
const SETUP = /<!--\s*ts-setup\n((?:(?!-->)[\s\S])*)-->/;
const CONTINUES = /<!--\s*ts-continues\s*-->/;

/** The setup lines of a block; throws when one is more than an import or a declaration. */
function setupOf(comments: string, where: string): string {
  const setup = SETUP.exec(comments)?.[1] ?? '';
  for (const line of setup.split('\n').filter((l) => l.trim() !== '')) {
    if (!/^\s*(import\s|declare\s)/.test(line)) {
      throw new Error(`${where}: ts-setup may only import or declare, not "${line.trim()}"`);
    }
  }
  return setup;
}

/** The `ts` blocks of one Markdown file, each with what it builds on. */
function snippetsOf(file: string): Snippet[] {
  const text = readFileSync(join(root, file), 'utf8');
  const snippets: Snippet[] = [];
  for (const match of text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)) {
    const before = text.slice(0, match.index);
    const comments = COMMENTS.exec(before)?.[1] ?? '';
    const line = before.split('\n').length;
    const previous = snippets.at(-1);
    const base = CONTINUES.test(comments) && previous !== undefined ? previous.source : '';
    const setup = setupOf(comments, `${file}:${line}`);
    snippets.push({ file, line, source: `${base}${setup}${match[1] ?? ''}` });
  }
  return snippets;
}

function compilerOptions(): ts.CompilerOptions {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(root, 'tsconfig.test.json'),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
  );
  if (parsed === undefined) throw new Error('tsconfig.test.json could not be read');
  return { ...parsed.options, noEmit: true, noUnusedLocals: false };
}

/** Type-checks every snippet in one program; returns the errors of each, by virtual path. */
function typeCheck(paths: Map<string, Snippet>): Map<string, string[]> {
  const options = compilerOptions();
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile } = host;
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (path) => paths.has(path) || fileExists(path);
  host.readFile = (path) => {
    const snippet = paths.get(path);
    // `export {}` makes each block a module: its own scope, top-level await allowed.
    return snippet === undefined ? readFile(path) : `${snippet.source}\nexport {};\n`;
  };
  host.getSourceFile = (path, language, ...rest) => {
    const snippet = paths.get(path);
    if (snippet === undefined) return getSourceFile(path, language, ...rest);
    return ts.createSourceFile(path, host.readFile(path) ?? '', language, true);
  };
  const program = ts.createProgram([...paths.keys()], options, host);
  const errors = new Map<string, string[]>([...paths.keys()].map((path) => [path, []]));
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const path = diagnostic.file?.fileName;
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const at = diagnostic.file?.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
    const list = path === undefined ? undefined : errors.get(path);
    if (list === undefined) throw new Error(`outside the snippets: ${path ?? ''} ${message}`);
    list.push(`line ${(at?.line ?? 0) + 1}: ${message}`);
  }
  return errors;
}

const snippets = markdownFiles().flatMap(snippetsOf);
// Virtual files next to the tests, so module resolution and the root package.json
// (ESM) apply as for any test file.
const paths = new Map(
  snippets.map((s, i) => [join(root, 'test', `__snippet_${i}.ts`).replaceAll('\\', '/'), s]),
);
let errors = new Map<string, string[]>();

beforeAll(() => {
  errors = typeCheck(paths);
}, 120_000);

describe('README snippets', () => {
  it('finds the blocks of every package README', () => {
    const files = new Set(snippets.map((s) => s.file));
    for (const name of ['core', 'express', 'koa', 'fastify', 'testing']) {
      expect(files).toContain(join('packages', name, 'README.md'));
    }
  });

  it.each([...paths].map(([path, s]) => [`${s.file}:${s.line}`, path]))(
    '%s compiles under strict settings',
    (_where, path) => {
      expect(errors.get(path)).toEqual([]);
    },
  );
});
