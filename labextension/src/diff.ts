/**
 * The branch diff grid: a renderer of `application/vnd.rustmemodb.diff+json`.
 *
 * One block per table: the counts (added, removed, changed) as toggles, then one grid
 * where added rows are green, removed rows red, and changed rows show each changed cell
 * as `old → new` (unchanged cells dimmed). Key columns are marked. Rows beyond the
 * document's limit are counted, not shown (`%sql --diff ... -o name` keeps them all).
 */
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';
import { cellText as text, el } from './dom';

export const DIFF_MIME = 'application/vnd.rustmemodb.diff+json';

interface ITableDiff {
  table: string;
  key_columns: string[];
  columns: string[];
  counts: { added: number; removed: number; changed: number };
  added: unknown[][];
  removed: unknown[][];
  changed_before: unknown[][];
  changed_after: unknown[][];
}

interface IDiff {
  a: string;
  b: string;
  tables: ITableDiff[];
  limit: number;
}

export class DiffRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(private options: IRenderMime.IRendererOptions) {
    super();
    this.addClass('rmdb-diff-output');
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const diff = model.data[this.options.mimeType] as unknown as IDiff;
    const root = el('div', 'rmdb-diff-grid');
    root.append(el('div', 'rmdb-diff-title', `diff ${diff.a} → ${diff.b}`));
    if (!diff.tables.length) {
      root.append(el('div', 'rmdb-diff-none', 'no tables'));
    }
    for (const t of diff.tables) {
      root.append(this._table(t, diff.limit));
    }
    this.node.replaceChildren(root);
  }

  private _table(t: ITableDiff, limit: number): HTMLElement {
    const block = el('div', 'rmdb-diff-table');
    block.dataset.table = t.table;
    const head = el('div', 'rmdb-diff-head');
    head.append(el('span', 'rmdb-diff-name', t.table));
    const grid = el('table', 'rmdb-diff-rows');
    const kinds: Array<['added' | 'removed' | 'changed', string]> = [['added', '+'], ['removed', '−'], ['changed', '~']];
    for (const [kind, sign] of kinds) {
      const toggle = el('button', `rmdb-diff-toggle rmdb-diff-${kind}`, `${sign}${t.counts[kind].toLocaleString('en-US')} ${kind}`);
      toggle.onclick = () => {
        toggle.classList.toggle('rmdb-diff-off');
        grid.classList.toggle(`rmdb-diff-hide-${kind}`);
      };
      head.append(toggle);
    }
    block.append(head);
    if (!t.columns.length) {
      return block;
    }
    const header = el('tr');
    header.append(el('th', '', ''));
    for (const c of t.columns) {
      header.append(el('th', t.key_columns.includes(c) ? 'rmdb-diff-key' : '', c));
    }
    grid.append(header);
    const plain = (kind: string, sign: string, rows: unknown[][]): void => {
      for (const row of rows) {
        const tr = el('tr', `rmdb-diff-row rmdb-diff-${kind}`);
        tr.append(el('td', 'rmdb-diff-sign', sign));
        row.forEach(v => tr.append(el('td', '', text(v))));
        grid.append(tr);
      }
    };
    plain('added', '+', t.added);
    plain('removed', '−', t.removed);
    t.changed_after.forEach((after, i) => {
      const before = t.changed_before[i] ?? [];
      const tr = el('tr', 'rmdb-diff-row rmdb-diff-changed');
      tr.append(el('td', 'rmdb-diff-sign', '~'));
      after.forEach((v, c) => {
        const old = before[c];
        if (text(old) === text(v)) {
          tr.append(el('td', 'rmdb-diff-same', text(v)));
        } else {
          const td = el('td', 'rmdb-diff-cell-changed');
          td.append(el('span', 'rmdb-diff-old', text(old)), document.createTextNode(' → '), el('span', 'rmdb-diff-new', text(v)));
          tr.append(td);
        }
      });
      grid.append(tr);
    });
    block.append(grid);
    const hidden = (['added', 'removed', 'changed'] as const).reduce((n, k) => n + Math.max(0, t.counts[k] - limit), 0);
    if (hidden > 0) {
      block.append(el('div', 'rmdb-diff-more', `${hidden.toLocaleString('en-US')} more rows not shown (%sql --diff … -o name keeps them all)`));
    }
    return block;
  }
}
