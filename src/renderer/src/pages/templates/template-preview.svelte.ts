// What the model would receive for real rows under the current template, and what it costs in
// tokens: asked of the engine (previewTemplate), which applies the template and counts with the
// model's own tokenizer. Each role is previewed with the template and without it, so the page
// can say how many tokens the instruction itself adds. Answers for an older template are
// dropped, so fast typing never shows a stale preview.
import { EngineError, type DatasetRowView, type EngineApi, type ErrorData } from '../../../../shared/api.js';
import { LatestAnswer } from '../../lib/latest-answer.js';
import { TEMPLATE_ROLES, type InstructionTemplate, type TemplateRole } from '../../lib/templates.svelte.js';

export interface PreviewLine {
  text: string;
  final: string;
  /** Null without a model (no tokenizer to count with). */
  tokens: number | null;
  /** Tokens of the bare text, to tell what the template adds. */
  bareTokens: number | null;
  truncated: boolean;
}

/** The texts each role applies to, from dataset rows: queries are anchors, documents positives and negatives. */
export function roleTexts(rows: DatasetRowView[]): Record<TemplateRole, string[]> {
  const uniq = (xs: (string | undefined)[]) => xs.filter((x, i): x is string => !!x && xs.indexOf(x) === i);
  return {
    query: uniq(rows.map((r) => r.anchor)),
    document: uniq(rows.flatMap((r) => [r.positive, ...(r.negatives ?? []).slice(0, 1)])),
    text: uniq(rows.map((r) => r.text)),
  };
}

export class TemplatePreview {
  #engine: EngineApi;
  #lines = $state.raw<Record<TemplateRole, PreviewLine[]>>({ query: [], document: [], text: [] });
  #error = $state.raw<ErrorData | null>(null);
  #loading = $state(false);
  #latest = new LatestAnswer();

  constructor(engine: EngineApi) {
    this.#engine = engine;
  }

  get lines(): Record<TemplateRole, PreviewLine[]> {
    return this.#lines;
  }
  get error(): ErrorData | null {
    return this.#error;
  }
  get loading(): boolean {
    return this.#loading;
  }

  async update(template: InstructionTemplate, texts: Record<TemplateRole, string[]>, model: string | null): Promise<void> {
    const fresh = this.#latest.ask();
    this.#loading = true;
    try {
      const m = model ? { model } : {};
      const entries = await Promise.all(
        TEMPLATE_ROLES.map(async (role): Promise<[TemplateRole, PreviewLine[]]> => {
          if (texts[role].length === 0) return [role, []];
          const [withT, bare] = await Promise.all([
            this.#engine.previewTemplate({ template: template[role], texts: texts[role], ...m }),
            model ? this.#engine.previewTemplate({ template: '', texts: texts[role], model }) : Promise.resolve(null),
          ]);
          return [role, withT.map((p, i) => ({ text: texts[role][i], final: p.final, tokens: p.tokens, truncated: p.truncated, bareTokens: bare?.[i].tokens ?? null }))];
        }),
      );
      if (!fresh()) return;
      this.#lines = Object.fromEntries(entries) as Record<TemplateRole, PreviewLine[]>;
      this.#error = null;
    } catch (err) {
      if (fresh()) this.#error = EngineError.toData(err);
    } finally {
      if (fresh()) this.#loading = false;
    }
  }
}
