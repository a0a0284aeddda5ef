import { describe, expect, it } from 'vitest';
import { TEMPLATE_PRESETS, suggestedPreset, templateProblem } from './templates.js';

describe('family presets', () => {
  it('suggest the family\'s own prompts for Qwen3 and EmbeddingGemma whatever the folder says', () => {
    expect(suggestedPreset('qwen3', {})).toBe('qwen3');
    expect(suggestedPreset('gemma3_text', { query: 'something else' })).toBe('embeddinggemma');
  });

  it('otherwise name the preset the model\'s own saved prompts match, or none', () => {
    expect(suggestedPreset('bert', { query: 'query: ', passage: 'passage: ' })).toBe('e5');
    expect(suggestedPreset('modernbert', { query: 'search_query: ', document: 'search_document: ' })).toBe('nomic');
    expect(suggestedPreset('bert', {})).toBeNull();
    expect(suggestedPreset('bert', { query: 'my own: ' })).toBeNull();
  });

  it('are prefixes the template rules accept, in the form each model card gives', () => {
    for (const [name, t] of Object.entries(TEMPLATE_PRESETS)) {
      for (const v of Object.values(t)) expect(templateProblem(v), `${name}: ${v}`).toBeNull();
    }
    // Qwen3's query instruction ends in "Query:" with no space: the card joins it to the query as is.
    expect(TEMPLATE_PRESETS.qwen3.query.endsWith('\nQuery:')).toBe(true);
    expect(TEMPLATE_PRESETS.embeddinggemma.document).toBe('title: none | text: ');
  });
});
