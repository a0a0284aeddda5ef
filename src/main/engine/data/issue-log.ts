// What an import found, as report.json keeps it: every skipped row listed, warnings of one
// code listed up to a cap (a million near-duplicates would bury everything else) and counted.
import { DATASET_SCHEMA_VERSION, type ImportIssue, type ImportReport, type RetrievalPart } from './types.js';

/** Warnings of one code listed beyond this many are counted only (skipped rows: always all). */
export const WARNINGS_LISTED_PER_CODE = 1000;

export class IssueLog {
  readonly listed: ImportIssue[];
  readonly counts: Record<string, number> = {};
  readonly truncated = new Set<string>();
  warnings = 0;

  /** `notes` (encoding decisions and the like) are listed but not counted. */
  constructor(notes: ImportIssue[] = []) {
    this.listed = [...notes];
  }

  /** Takes the findings out of `found` (emptied, so a caller can reuse its array). */
  take(found: ImportIssue[]): void {
    for (const issue of found) {
      const n = (this.counts[issue.code] = (this.counts[issue.code] ?? 0) + 1);
      if (issue.severity === 'warning') this.warnings++;
      if (issue.severity === 'error' || n <= WARNINGS_LISTED_PER_CODE) this.listed.push(issue);
      else this.truncated.add(issue.code);
    }
    found.length = 0;
  }

  /** The first `n` skipped-row messages (of one retrieval part, when given). */
  firstErrors(n = 3, file?: RetrievalPart): string[] {
    return this.listed.filter((i) => i.severity === 'error' && (file === undefined || i.file === file)).slice(0, n).map((i) => i.message);
  }

  report(): ImportReport {
    return { schemaVersion: DATASET_SCHEMA_VERSION, issues: this.listed, counts: this.counts, truncated: [...this.truncated] };
  }
}
