// No swallowed errors (HELPERS, STYLE habit 6): a failed call the UI drops silently leaves the
// user looking at a page that never changes. Every source file outside the engine is parsed
// with TypeScript (a Svelte file's scripts, and its markup by pattern) and each empty rejection
// handler is reported by file and line: `.catch(() => {})`, `.then(f, () => {})` and a `catch {}`
// with nothing in it around an `await`. A handler that does something (shows the error, logs
// it, or falls back to a value the caller checks) passes.
// The engine is left out: its empty handlers are best-effort clean-ups (closing a handle,
// removing a temp file) inside a `catch` or `finally` whose own error already propagates.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = process.cwd(); // the repository, as for the layer rules' test
const SKIP = [join('src', 'main', 'engine')];

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return SKIP.includes(path) ? [] : sourceFiles(path);
    return /\.(ts|svelte)$/.test(e.name) ? [path] : [];
  });
}

/** `() => {}`, `(e) => undefined`, `function () {}`: a handler that does nothing. */
function isEmptyHandler(node: ts.Node | undefined): boolean {
  if (!node || !(ts.isArrowFunction(node) || ts.isFunctionExpression(node))) return false;
  const body = node.body;
  if (ts.isBlock(body)) return body.statements.length === 0;
  return (ts.isIdentifier(body) && body.text === 'undefined') || (ts.isVoidExpression(body) && ts.isLiteralExpression(body.expression));
}

function awaits(node: ts.Node): boolean {
  return ts.isAwaitExpression(node) || (ts.isForOfStatement(node) && !!node.awaitModifier) || ts.forEachChild(node, awaits) === true;
}

/** Empty rejection handlers in one script, as [line (0-based, within the script), what]. */
function findInScript(code: string): Array<[number, string]> {
  const file = ts.createSourceFile('x.ts', code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: Array<[number, string]> = [];
  const at = (n: ts.Node) => file.getLineAndCharacterOfPosition(n.getStart(file)).line;
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const method = node.expression.name.text;
      if (method === 'catch' && isEmptyHandler(node.arguments[0])) found.push([at(node.arguments[0]), '.catch with an empty handler']);
      if (method === 'then' && isEmptyHandler(node.arguments[1])) found.push([at(node.arguments[1]), '.then with an empty rejection handler']);
    }
    if (ts.isTryStatement(node) && node.catchClause && node.catchClause.block.statements.length === 0 && awaits(node.tryBlock)) {
      found.push([at(node.catchClause), 'an empty catch around an await']);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/** Empty rejection handlers in a .ts or .svelte file, as `path:line what`. */
export function swallowedErrors(path: string, text: string): string[] {
  const out: string[] = [];
  const lineOf = (offset: number) => text.slice(0, offset).split('\n').length; // 1-based
  if (!path.endsWith('.svelte')) return findInScript(text).map(([line, what]) => `${path}:${line + 1} ${what}`);
  for (const m of text.matchAll(/(<script[^>]*>)([\s\S]*?)<\/script>/g)) {
    const first = lineOf(m.index + m[1].length);
    for (const [line, what] of findInScript(m[2])) out.push(`${path}:${first + line} ${what}`);
  }
  // Markup handlers (onclick={() => save().catch(() => {})}) are short: a pattern finds them.
  const markup = text.replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/g, (s) => s.replace(/[^\n]/g, ' '));
  const empty = String.raw`(?:\([^()]*\)|\w+)\s*=>\s*(?:\{\s*\}|undefined\b)`;
  for (const m of markup.matchAll(new RegExp(String.raw`\.catch\(\s*${empty}|\.then\([^()]*(?:\([^()]*\)[^()]*)*,\s*${empty}`, 'g'))) {
    out.push(`${path}:${lineOf(m.index)} ${m[0].startsWith('.catch') ? '.catch with an empty handler' : '.then with an empty rejection handler'}`);
  }
  return out;
}

describe('no swallowed errors', () => {
  it('finds each form of empty rejection handler, and passes handlers that do something', () => {
    const planted = [
      'void load().catch(() => {});',
      'void load().catch((e: unknown) => undefined);',
      'load().then((v) => use(v), () => {});',
      'load().then(use, function () {});',
      'async function f() {\n  try {\n    await load();\n  } catch {}\n}',
      'async function g() {\n  try {\n    await load();\n  } catch (err) {\n    // nothing to do\n  }\n}',
    ];
    for (const code of planted) expect(swallowedErrors('planted.ts', code), code).toHaveLength(1);
    const fine = [
      'void load().catch((e: unknown) => (error = EngineError.toData(e)));',
      'load().then(use, (e) => console.error(e));',
      'const r = await read().catch(() => null); if (!r) say();',
      'try { localStorage.setItem(k, v); } catch { /* storage may be disabled */ }',
      'async function f() { try { await load(); } catch (err) { error = err; } }',
    ];
    for (const code of fine) expect(swallowedErrors('fine.ts', code), code).toEqual([]);
  });

  it('finds them in a Svelte file, script or markup, on the right line', () => {
    const svelte = ['<script lang="ts">', '  const a = 1;', '  load().catch(() => {});', '</script>', '', '<button onclick={() => save().catch(() => {})}>Save</button>'].join('\n');
    expect(swallowedErrors('P.svelte', svelte)).toEqual(['P.svelte:3 .catch with an empty handler', 'P.svelte:6 .catch with an empty handler']);
  });

  it('src/ outside the engine has none', () => {
    const files = sourceFiles('src');
    expect(files.length).toBeGreaterThan(100);
    const found = files.flatMap((f) => swallowedErrors(relative(ROOT, join(ROOT, f)), readFileSync(join(ROOT, f), 'utf8')));
    expect(found).toEqual([]);
  });
});
