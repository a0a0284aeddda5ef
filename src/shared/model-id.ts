// Hugging Face model ids as `embedsmith pull` and the Models page take them: ORG/NAME or
// ORG/NAME@REVISION (branch, tag or commit). Shared so the form can say what is wrong while
// the user types, with the same rule the engine applies before it asks the hub.
const PART_RE = /^[\w.-]+$/;

/** What is wrong with `arg` as a model id, in words that say how to fix it; null when it is fine. */
export function modelIdProblem(arg: string): string | null {
  if (arg.trim() === '') return 'type a model id, e.g. BAAI/bge-small-en-v1.5';
  if (/^https?:\/\//i.test(arg)) return "paste only the ORG/NAME part of the model's address, e.g. BAAI/bge-small-en-v1.5";
  if (/\s/.test(arg)) return 'a model id has no spaces';
  const at = arg.indexOf('@');
  const repo = at < 0 ? arg : arg.slice(0, at);
  const revision = at < 0 ? 'main' : arg.slice(at + 1);
  const parts = repo.split('/');
  if (parts.length === 1) return `give the organisation too: ORG/NAME, e.g. sentence-transformers/${repo || 'all-MiniLM-L6-v2'}`;
  if (parts.length > 2) return `a model id has one '/': ORG/NAME (this has ${parts.length - 1})`;
  if (parts[0] === '') return "the organisation before '/' is missing";
  if (parts[1] === '') return "the model name after '/' is missing";
  if (!parts.every((p) => PART_RE.test(p))) return "ORG and NAME may hold only letters, digits, '-', '_' and '.'";
  if (revision === '') return "nothing follows '@': give a branch, tag or commit, or leave the '@' out";
  if (revision.includes('..')) return "the revision may not contain '..'";
  return null;
}
