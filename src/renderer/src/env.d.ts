/// <reference types="vite/client" />
// vite/client types the CSS import in main.ts (TypeScript 6 checks side-effect imports).
import type { EngineApi } from '../../shared/api.js';

declare global {
  interface Window {
    /** Set by the Electron preload (exactly an EngineApi); absent in a plain browser. */
    engine?: EngineApi;
  }
}

export {};
