// A project opened with nothing chosen yet (made by the CLI, e.g. `embedsmith demo`, or opened
// in a fresh browser) gets its Workbench filled from what the project holds, so the pages do
// not start from empty model and dataset fields (issue 15 item 11): the latest finished run
// gives the trained model and its base model; the datasets give the imported and mined ones.
import type { EngineApi } from '../../../shared/api.js';
import type { Workbench, WorkbenchChoices } from './workbench.svelte.js';

export async function fillEmptyWorkbench(engine: EngineApi, workbench: Workbench): Promise<void> {
  const dir = workbench.projectDir;
  if (!dir || Object.values(workbench.choices).some((v) => v !== null)) return;
  const [datasets, runs] = await Promise.all([engine.listDatasets(), engine.listRuns()]);
  const fill: Partial<WorkbenchChoices> = {};
  fill.dataset = (datasets.find((d) => !d.mined && d.split) ?? datasets.find((d) => !d.mined))?.dir ?? null;
  fill.mined = datasets.find((d) => d.mined)?.dir ?? null;
  // listRuns is in name order; any finished one will do when there are several (the demo has one).
  const run = runs.filter((r) => r.done).at(-1) ?? runs.at(-1);
  if (run) {
    // An unreadable run still names its folder; the Training page says why when it is opened.
    const view = await engine.readRun(run.dir).catch(() => null);
    fill.run = run.dir;
    fill.trained = view?.modelDir ?? null;
    if (typeof view?.config.model === 'string') fill.model = view.config.model;
  }
  // The user may have chosen something meanwhile, or opened another project: theirs wins.
  if (workbench.projectDir !== dir || Object.values(workbench.choices).some((v) => v !== null)) return;
  for (const [k, v] of Object.entries(fill) as [keyof WorkbenchChoices, string | null][]) if (v) workbench.set(k, v);
}
