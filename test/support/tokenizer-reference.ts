// transformers.js as the reference tokenizer for the agreement tests (tokenize/*-tokenizer.test.ts):
// a folder under `root` loaded offline, and the real tokens of a padded batch row, so that our
// right-padded batches can be compared with its left- or right-padded ones.
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
