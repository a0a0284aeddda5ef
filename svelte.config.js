// Svelte 5 in runes mode everywhere (STYLE: runes, no stores). TypeScript in <script lang="ts">
// is handled by Svelte itself (type annotations only), so no preprocessor is needed.
export default {
  compilerOptions: { runes: true },
};
