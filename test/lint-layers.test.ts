// The layer rules of DESIGN §2 are enforced by ESLint: plant a violation in each room and
// check it is reported, and check that an allowed import in the same room is not.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: process.cwd() });

async function layerErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layer rules', () => {
  const cases: Array<[string, string, string]> = [
    ['renderer imports electron', 'src/renderer/src/planted.ts', "import { ipcRenderer } from 'electron';\nvoid ipcRenderer;\n"],
    ['renderer imports main code', 'src/renderer/src/planted.ts', "import { EngineHost } from '../../main/engine/host/engine-host.js';\nvoid EngineHost;\n"],
    ['renderer imports a node module', 'src/renderer/src/planted.ts', "import { readFile } from 'node:fs/promises';\nvoid readFile;\n"],
    ['engine imports electron', 'src/main/engine/data/planted.ts', "import { app } from 'electron';\nvoid app;\n"],
    ['onnxruntime-node outside runtime', 'src/main/engine/nn/planted.ts', "import * as ort from 'onnxruntime-node';\nvoid ort;\n"],
    ['onnxruntime-node in main', 'src/main/planted.ts', "import * as ort from 'onnxruntime-node';\nvoid ort;\n"],
    ['shared imports node', 'src/shared/planted.ts', "import { join } from 'node:path';\nvoid join;\n"],
    ['shared imports engine', 'src/shared/planted.ts', "import { x } from '../main/engine/version.js';\nvoid x;\n"],
    ['engine code imports test support', 'src/main/engine/nn/planted.ts', "import { evaluate } from '../../../../test/support/grad-check.js';\nvoid evaluate;\n"],
    ['runtime code imports a *-testing file', 'src/main/engine/runtime/planted.ts', "import { x } from '../train/recipe-testing.js';\nvoid x;\n"],
    ['engine test imports onnxruntime-node outside runtime', 'src/main/engine/nn/planted.test.ts', "import * as ort from 'onnxruntime-node';\nvoid ort;\n"],
  ];
  for (const [name, file, code] of cases) {
    it(`catches: ${name}`, async () => {
      expect(await layerErrors(file, code)).toHaveLength(1);
    });
  }

  const allowed: Array<[string, string, string]> = [
    ['renderer imports shared and svelte', 'src/renderer/src/planted.ts', "import { mount } from 'svelte';\nimport type { EngineApi } from '../../shared/api.js';\nexport type A = EngineApi;\nvoid mount;\n"],
    ['runtime imports onnxruntime-node', 'src/main/engine/runtime/planted.ts', "import * as ort from 'onnxruntime-node';\nvoid ort;\n"],
    ['main imports electron', 'src/main/planted.ts', "import { app } from 'electron';\nvoid app;\n"],
    ['shared imports shared', 'src/shared/planted.ts', "import { EngineError } from './errors.js';\nvoid EngineError;\n"],
    ['engine tests import test support', 'src/main/engine/nn/planted.test.ts', "import { evaluate } from '../../../../test/support/grad-check.js';\nvoid evaluate;\n"],
    ['runtime tests import test support', 'src/main/engine/runtime/planted.test.ts', "import { refInit } from '../../../../test/support/toy-reference.js';\nvoid refInit;\n"],
  ];
  for (const [name, file, code] of allowed) {
    it(`allows: ${name}`, async () => {
      expect(await layerErrors(file, code)).toEqual([]);
    });
  }
});
