// The current page lives in the URL hash (`#/mining`), so reload and back/forward keep it
// and the nav can be plain links (keyboard and screen readers get link semantics for free).
import { pageFromHash, type PageId } from './pages.js';

export class Router {
  #win: Window;
  #page = $state<PageId>('project');
  #onHash = () => (this.#page = pageFromHash(this.#win.location.hash));

  constructor(win: Window = window) {
    this.#win = win;
    this.#onHash();
    win.addEventListener('hashchange', this.#onHash);
  }

  get page(): PageId {
    return this.#page;
  }

  dispose(): void {
    this.#win.removeEventListener('hashchange', this.#onHash);
  }
}
