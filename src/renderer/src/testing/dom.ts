// For tests only: the few DOM queries the component tests need, by accessible name, so the
// tests fail when labels or roles go missing (as a screen-reader user would notice).

/** The control a <label> with exactly this text points at. */
export function byLabel(text: string, root: ParentNode = document): HTMLInputElement {
  const label = [...root.querySelectorAll('label')].find((l) => l.textContent?.trim() === text);
  if (!label) throw new Error(`no label "${text}"`);
  const control = label.htmlFor ? document.getElementById(label.htmlFor) : label.querySelector('input');
  if (!(control instanceof HTMLInputElement)) throw new Error(`label "${text}" has no input`);
  return control;
}

/** A button whose accessible name (aria-label, else text) is exactly `name`; null if none. */
export function queryButton(name: string, root: ParentNode = document): HTMLButtonElement | null {
  return (
    [...root.querySelectorAll('button')].find(
      (b) => (b.getAttribute('aria-label') ?? b.textContent ?? '').trim().replace(/\s+/g, ' ') === name,
    ) ?? null
  );
}

export function button(name: string, root: ParentNode = document): HTMLButtonElement {
  const b = queryButton(name, root);
  if (!b) throw new Error(`no button "${name}"`);
  return b;
}

export function type(input: HTMLInputElement, value: string): void {
  input.value = value;
  input.dispatchEvent(new Event('input', { bubbles: true }));
}

/** Lets pending promise chains (fake engine calls) finish. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
