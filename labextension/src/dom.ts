/**
 * Small DOM helpers shared by the renderers (grid, plan, diff) and the sidebar, so each
 * of them builds elements and shows cell values the same way.
 */

/** A new element of `tag` with class `cls` (none when empty) and optional text. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls = '', text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (cls) {
    node.className = cls;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

/** A cell value as shown in a grid: NULL for null/undefined, JSON for objects. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) {
    return 'NULL';
  }
  if (typeof value === 'object') {
    return JSON.stringify(value);
  }
  return String(value);
}
