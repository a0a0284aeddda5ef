// The unlabelled documents domain pre-training reads: one .txt/.md file is one document; a
// .jsonl file holds one {"title"?, "text"} object per line (the shape of most corpus dumps);
// a folder is every such file under it, in sorted path order so the pairs (and the run) do
// not depend on the file system's listing order. Lines and files that cannot be used are
// counted and listed, never dropped silently (DESIGN §7).

import { readFile, readdir, stat } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';
import { EngineError } from '../../../../shared/errors.js';
import type { WeakDocument } from './weak-pairs.js';

const TEXT_EXT = new Set(['.txt', '.md', '.markdown']);
const JSONL_EXT = new Set(['.jsonl', '.ndjson']);
/** Problems listed one by one in pretrain.json; beyond this only counted. */
export const LISTED_PROBLEMS = 20;

export interface DocumentProblem {
  source: string;
  message: string;
}

export interface DocumentSet {
  documents: WeakDocument[];
  files: number;
  /** Files in a folder that are not .txt/.md/.jsonl. */
  otherFiles: number;
  /** JSONL lines or files that gave no document. */
  skipped: number;
  problems: DocumentProblem[];
}

export async function readDocuments(input: string): Promise<DocumentSet> {
  const info = await stat(input).catch(() => {
    throw new EngineError('NOT_FOUND', `--input ${input} does not exist. Fix: give a .txt, .md or .jsonl file, or a folder of them.`, { path: input, setting: 'input' });
  });
  const set: DocumentSet = { documents: [], files: 0, otherFiles: 0, skipped: 0, problems: [] };
  const problem = (source: string, message: string) => {
    set.skipped++;
    if (set.problems.length < LISTED_PROBLEMS) set.problems.push({ source, message });
  };
  let files: string[];
  if (info.isDirectory()) {
    const all = (await readdir(input, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name));
    files = all.filter((f) => TEXT_EXT.has(extname(f).toLowerCase()) || JSONL_EXT.has(extname(f).toLowerCase())).sort();
    set.otherFiles = all.length - files.length;
  } else {
    const ext = extname(input).toLowerCase();
    if (!TEXT_EXT.has(ext) && !JSONL_EXT.has(ext)) {
      throw new EngineError('BAD_INPUT', `--input ${input}: '${ext || 'no extension'}' is not a document file. Fix: give a .txt or .md file (one document), a .jsonl file with {"title", "text"} per line, or a folder of them.`, { path: input, setting: 'input' });
    }
    files = [input];
  }
  for (const file of files) {
    const name = info.isDirectory() ? relative(input, file) : file;
    set.files++;
    const text = (await readFile(file, 'utf8')).replace(/^\uFEFF/, '');
    if (!JSONL_EXT.has(extname(file).toLowerCase())) {
      if (text.trim() === '') problem(name, 'the file is empty');
      else set.documents.push({ source: name, text });
      continue;
    }
    text.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === '') return;
      const where = `${name}:${i + 1}`;
      const doc = jsonlDocument(line, where);
      if (typeof doc === 'string') problem(where, doc);
      else set.documents.push(doc);
    });
  }
  if (set.documents.length === 0) {
    const first = set.problems.slice(0, 3).map((p) => `${p.source}: ${p.message}`).join(' | ');
    throw new EngineError(
      'BAD_INPUT',
      `--input ${input} gave no documents (${set.files} file(s) read, ${set.otherFiles} other file(s) ignored${first ? `; ${first}` : ''}). Fix: give .txt/.md files with text, or JSONL lines like {"title": "…", "text": "…"}.`,
      { path: input, setting: 'input' },
    );
  }
  return set;
}

/** A document, or why the line is not one. */
function jsonlDocument(line: string, where: string): WeakDocument | string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    return `not valid JSON (${(e as Error).message})`;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object like {"title": "…", "text": "…"}';
  const o = v as Record<string, unknown>;
  if (typeof o.text !== 'string' || o.text.trim() === '') return `no "text" string (keys: ${Object.keys(o).join(', ') || 'none'})`;
  if (o.title !== undefined && o.title !== null && typeof o.title !== 'string') return `"title" is ${typeof o.title}, not a string`;
  const title = typeof o.title === 'string' && o.title.trim() !== '' ? o.title : undefined;
  return title === undefined ? { source: where, text: o.text } : { source: where, title, text: o.text };
}
