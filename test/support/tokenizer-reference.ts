// transformers.js as the reference tokenizer for the agreement tests (tokenize/*-tokenizer.test.ts):
// a folder under `root` loaded offline, and the real tokens of a padded batch row, so that our
// right-padded batches can be compared with its left- or right-padded ones.
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';

export type ReferenceTokenizer = Awaited<ReturnType<typeof AutoTokenizer.from_pretrained>>;

/** transformers.js' tokenizer of the folder `root/name`, never from the network. */
export async function referenceTokenizer(root: string, name: string): Promise<ReferenceTokenizer> {
  env.allowRemoteModels = false;
  env.localModelPath = root;
  return AutoTokenizer.from_pretrained(name, { local_files_only: true });
}

/** Row `i` of a [B, L] batch without its padding: the ids where the mask is 1, in order. */
export function realTokens(ids: ArrayLike<number>, mask: ArrayLike<number>, i: number, l: number): number[] {
  const out: number[] = [];
  for (let j = i * l; j < (i + 1) * l; j++) if (mask[j]) out.push(ids[j]);
  return out;
}

/**
 * A tokenizer package's files (`packageDir/models`: tokenizer.json, tokenizer_config.json) as
 * the folder `root/base`, and an embedding model's variant of them as `root/variant.name`: the
 * same vocabulary and merges with its own post-processor and tokenizer_config fields.
 */
export async function tokenizerFolders(
  packageDir: string,
  root: string,
  base: string,
  variant: { name: string; postProcessor: unknown; config: Record<string, unknown> },
): Promise<void> {
  const baseDir = join(root, base);
  await mkdir(baseDir, { recursive: true });
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) await copyFile(join(packageDir, 'models', f), join(baseDir, f));
  const json = JSON.parse(await readFile(join(baseDir, 'tokenizer.json'), 'utf8'));
  const cfg = JSON.parse(await readFile(join(baseDir, 'tokenizer_config.json'), 'utf8'));
  const dir = join(root, variant.name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify({ ...json, post_processor: variant.postProcessor }));
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify({ ...cfg, ...variant.config }));
}
