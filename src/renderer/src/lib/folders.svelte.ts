// The open project's datasets and training runs, for the pages' pickers. Read from the engine
// (PROJECT/datasets/*, PROJECT/runs/*) when a page opens and after a job writes a new one.
import { EngineError, type DatasetSummary, type EngineApi, type ErrorData } from '../../../shared/api.js';

export interface RunSummary {
  dir: string;
  name: string;
  steps: number;
  done: boolean;
}

export class ProjectFolders {
  #engine: EngineApi;
  #datasets = $state.raw<DatasetSummary[]>([]);
  #runs = $state.raw<RunSummary[]>([]);
  #error = $state.raw<ErrorData | null>(null);

  constructor(engine: EngineApi) {
    this.#engine = engine;
  }

  get datasets(): DatasetSummary[] {
    return this.#datasets;
  }
  get runs(): RunSummary[] {
    return this.#runs;
  }
  get error(): ErrorData | null {
    return this.#error;
  }

  async loadDatasets(): Promise<void> {
    try {
      this.#datasets = await this.#engine.listDatasets();
    } catch (err) {
      this.#error = EngineError.toData(err);
    }
  }

  async loadRuns(): Promise<void> {
    try {
      this.#runs = await this.#engine.listRuns();
    } catch (err) {
      this.#error = EngineError.toData(err);
    }
  }

  dismiss(): void {
    this.#error = null;
  }
}
