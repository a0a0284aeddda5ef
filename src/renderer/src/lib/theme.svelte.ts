// Light/dark theme: follows the system (`prefers-color-scheme`) until the user picks one.
// Picking the system's own theme clears the choice, so the app follows the system again.
export type ThemeName = 'light' | 'dark';

const KEY = 'embedsmith.theme';

export class Theme {
  #system = $state<ThemeName>('light');
  #chosen = $state<ThemeName | null>(null);
  #storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null;
  #query: MediaQueryList | null = null;
  #onChange = (e: { matches: boolean }) => (this.#system = e.matches ? 'dark' : 'light');

  constructor(win: Window = window) {
    // jsdom and some embedders lack matchMedia/localStorage; the theme must still work.
    this.#storage = safe(() => win.localStorage);
    if (typeof win.matchMedia === 'function') {
      this.#query = win.matchMedia('(prefers-color-scheme: dark)');
      this.#onChange(this.#query);
      this.#query.addEventListener('change', this.#onChange);
    }
    const stored = safe(() => this.#storage?.getItem(KEY));
    if (stored === 'light' || stored === 'dark') this.#chosen = stored;
  }

  get current(): ThemeName {
    return this.#chosen ?? this.#system;
  }
  get followsSystem(): boolean {
    return this.#chosen === null;
  }

  toggle(): void {
    const next: ThemeName = this.current === 'dark' ? 'light' : 'dark';
    this.#chosen = next === this.#system ? null : next;
    safe(() => (this.#chosen ? this.#storage?.setItem(KEY, this.#chosen) : this.#storage?.removeItem(KEY)));
  }

  dispose(): void {
    this.#query?.removeEventListener('change', this.#onChange);
  }
}

function safe<T>(f: () => T): T | null {
  try {
    return f() ?? null;
  } catch {
    return null;
  }
}
