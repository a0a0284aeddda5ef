// The import form's look at a file, asked of the engine (previewImport): its own reader,
// mapping and row checks on the first rows, so what the form shows is what the import will
// store — encoding, delimiter, quoted newlines, JSONL and Parquet included. Answers for older
// settings are dropped, so fast typing never shows a stale preview; the last answer stays up
// while the next is read, so the table does not flicker.
import { EngineError, type EngineApi, type ErrorData, type ImportPreview, type ImportPreviewRequest } from '../../../../shared/api.js';
import { LatestAnswer } from '../../lib/latest-answer.js';

export class ImportPreviewState {
  #engine: EngineApi;
  #preview = $state.raw<ImportPreview | null>(null);
  #error = $state.raw<ErrorData | null>(null);
  #columns = $state.raw<string[] | null>(null);
  #loading = $state(false);
  #latest = new LatestAnswer();

  constructor(engine: EngineApi) {
    this.#engine = engine;
  }

  get preview(): ImportPreview | null {
    return this.#preview;
  }
  /** Why the engine could not preview the file (the import would fail the same way). */
  get error(): ErrorData | null {
    return this.#error;
  }
  /** The file's columns: from the preview, or from a refused mapping (its details list them). */
  get columns(): string[] | null {
    return this.#columns;
  }
  get loading(): boolean {
    return this.#loading;
  }

  /** Previews with these settings; null clears (no file, or one the engine cannot be asked about). */
  async update(request: ImportPreviewRequest | null): Promise<void> {
    const fresh = this.#latest.ask();
    if (!request) {
      this.#preview = null;
      this.#error = null;
      this.#columns = null;
      this.#loading = false;
      return;
    }
    this.#loading = true;
    try {
      const preview = await this.#engine.previewImport(request);
      if (!fresh()) return;
      this.#preview = preview;
      this.#error = null;
      this.#columns = preview.columns;
    } catch (err) {
      if (!fresh()) return;
      const error = EngineError.toData(err);
      const columns = error.details?.columns;
      this.#preview = null;
      this.#error = error;
      this.#columns = Array.isArray(columns) && columns.every((c) => typeof c === 'string') ? columns : null;
    } finally {
      if (fresh()) this.#loading = false;
    }
  }
}
