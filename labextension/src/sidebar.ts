/**
 * The left sidebar panel `rustmemodb-sidebar`: the active notebook's database at a glance.
 *
 * It follows the notebook in focus and draws the snapshot its kernel sends (see
 * kernel.ts): the branch tree with the current branch marked and actions (check out,
 * fork, drop, diff two branches), then tables with their columns, types and row counts,
 * views and indexes of the current branch. Every action is a request the kernel runs as
 * the matching `%sql` option; the kernel then pushes a fresh snapshot, which redraws.
 */
import { InputDialog } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { LabIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';
import { el } from './dom';
import { ISnapshot, KernelLink, linkFor } from './kernel';

const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
<g class="jp-icon3" fill="#616161"><ellipse cx="12" cy="5" rx="8" ry="3"/>
<path d="M4 7v5c0 1.7 3.6 3 8 3s8-1.3 8-3V7c0 1.7-3.6 3-8 3S4 8.7 4 7z"/>
<path d="M4 14v5c0 1.7 3.6 3 8 3s8-1.3 8-3v-5c0 1.7-3.6 3-8 3s-8-1.3-8-3z"/></g></svg>`;

export const databaseIcon = new LabIcon({ name: 'rustmemodb-lab:database', svgstr: ICON_SVG });

function button(label: string, title: string, action: () => void, cls = ''): HTMLButtonElement {
  const b = el('button', `rmdb-sb-action ${cls}`.trim(), label);
  b.title = title;
  b.onclick = ev => {
    ev.stopPropagation();
    action();
  };
  return b;
}

export class Sidebar extends Widget {
  constructor(private tracker: INotebookTracker) {
    super();
    this.id = 'rustmemodb-sidebar';
    this.addClass('rmdb-sidebar');
    this.title.icon = databaseIcon;
    this.title.caption = 'RustMemDB: tables and branches';
    this._body = el('div', 'rmdb-sb-body');
    this._status = el('div', 'rmdb-sb-status');
    this._result = el('div', 'rmdb-sb-result');
    this.node.append(el('div', 'rmdb-sb-title', 'RustMemDB'), this._status, this._body, this._result);
    tracker.widgetAdded.connect((_, panel) => this._watch(panel));
    tracker.forEach(panel => this._watch(panel));
    tracker.currentChanged.connect(() => this._follow());
    this._follow();
  }

  /** Create the link of each notebook's kernel as soon as it has one (before %load_ext). */
  private _watch(panel: NotebookPanel): void {
    const connect = (): void => {
      const kernel = panel.sessionContext.session?.kernel;
      if (kernel) {
        linkFor(kernel);
      }
      if (panel === this.tracker.currentWidget) {
        this._follow();
      }
    };
    panel.sessionContext.kernelChanged.connect(connect);
    panel.sessionContext.ready.then(connect);
  }

  private _follow(): void {
    const kernel = this.tracker.currentWidget?.sessionContext.session?.kernel ?? null;
    const link = kernel ? linkFor(kernel) : null;
    if (link === this._link) {
      return;
    }
    this._link?.changed.disconnect(this._render, this);
    this._link = link;
    link?.changed.connect(this._render, this);
    this._render();
  }

  private _render(): void {
    const snap = this._link?.snapshot ?? null;
    this._body.replaceChildren();
    if (!this._link) {
      this._status.textContent = 'No notebook kernel.';
      return;
    }
    if (!snap || !this._link.connected) {
      this._status.textContent = 'Run %load_ext rustmemodb_lab in this notebook.';
      return;
    }
    if (snap.connection === null) {
      this._status.textContent = 'No database yet: run a %sql cell.';
      return;
    }
    this._status.textContent = snap.external
      ? `connection ${snap.connection} (${snap.external})`
      : `connection ${snap.connection} · branch ${snap.branch}`;
    if (!snap.external) {
      this._body.append(this._branches(snap));
    }
    this._body.append(this._tables(snap));
    if (snap.views.length) {
      this._body.append(this._views(snap));
    }
    if (snap.indexes.length) {
      this._body.append(this._indexes(snap));
    }
  }

  private _section(title: string, count?: number): HTMLElement {
    const section = el('section', 'rmdb-sb-section');
    const head = el('h3', 'rmdb-sb-heading', count === undefined ? title : `${title} (${count})`);
    section.append(head);
    return section;
  }

  private _branches(snap: ISnapshot): HTMLElement {
    const section = this._section('Branches', snap.branches.length);
    section.classList.add('rmdb-sb-branches');
    const list = el('ul', 'rmdb-sb-tree');
    for (const b of snap.branches) {
      const item = el('li', 'rmdb-sb-branch');
      item.dataset.branch = b.name;
      item.style.paddingLeft = `${b.depth * 14 + 4}px`;
      const name = el('span', 'rmdb-sb-branch-name', `${b.current ? '● ' : '○ '}${b.name}`);
      if (b.current) {
        item.classList.add('rmdb-sb-current');
        name.title = 'current branch';
      }
      const actions = el('span', 'rmdb-sb-actions');
      if (!b.current) {
        actions.append(button('check out', `%sql --checkout ${b.name}`, () => this._act({ action: 'checkout', branch: b.name }), 'rmdb-sb-checkout'));
      }
      actions.append(button('fork', `fork ${b.name} as a new branch`, () => this._fork(b.name), 'rmdb-sb-fork'));
      if (!b.current && b.parent !== null) {
        actions.append(button('drop', `%sql --drop-branch ${b.name}`, () => this._act({ action: 'drop', branch: b.name }), 'rmdb-sb-drop'));
      }
      item.append(name, actions);
      list.append(item);
    }
    section.append(list);
    if (snap.branches.length > 1) {
      const row = el('div', 'rmdb-sb-diff');
      const pick = (selected: string): HTMLSelectElement => {
        const select = el('select');
        for (const b of snap.branches) {
          const option = el('option', undefined, b.name);
          option.value = b.name;
          option.selected = b.name === selected;
          select.append(option);
        }
        return select;
      };
      const current = snap.branch ?? snap.branches[0].name;
      const other = snap.branches.find(b => b.name !== current)?.name ?? current;
      const a = pick(other);
      const b = pick(current);
      a.classList.add('rmdb-sb-diff-a');
      b.classList.add('rmdb-sb-diff-b');
      row.append(el('span', undefined, 'diff '), a, el('span', undefined, ' → '), b,
        button('diff', 'row-level differences', () => this._act({ action: 'diff', branch: a.value, other: b.value }), 'rmdb-sb-diff-run'));
      section.append(row);
    }
    return section;
  }

  private _tables(snap: ISnapshot): HTMLElement {
    const section = this._section('Tables', snap.tables.length);
    section.classList.add('rmdb-sb-tables');
    for (const t of snap.tables) {
      const details = el('details', 'rmdb-sb-table');
      details.dataset.table = t.name;
      const summary = el('summary');
      summary.append(el('span', 'rmdb-sb-table-name', t.name));
      if (t.rows !== null) {
        summary.append(el('span', 'rmdb-sb-rows', `${t.rows.toLocaleString('en-US')} rows`));
      }
      details.append(summary);
      const cols = el('ul', 'rmdb-sb-columns');
      for (const c of t.columns) {
        const li = el('li', 'rmdb-sb-column');
        li.append(el('span', 'rmdb-sb-column-name', c.name + (c.key ? ' 🔑' : '')),
          el('span', 'rmdb-sb-column-type', c.type + (c.not_null && !c.key ? ' NOT NULL' : '')));
        cols.append(li);
      }
      details.append(cols);
      section.append(details);
    }
    if (!snap.tables.length) {
      section.append(el('div', 'rmdb-sb-empty', 'no tables'));
    }
    return section;
  }

  private _views(snap: ISnapshot): HTMLElement {
    const section = this._section('Views', snap.views.length);
    for (const v of snap.views) {
      const item = el('div', 'rmdb-sb-view', v.name);
      item.title = v.sql;
      section.append(item);
    }
    return section;
  }

  private _indexes(snap: ISnapshot): HTMLElement {
    const section = this._section('Indexes', snap.indexes.length);
    for (const i of snap.indexes) {
      const kind = i.primary ? 'primary key' : i.unique ? 'unique' : 'index';
      section.append(el('div', 'rmdb-sb-index', `${i.name} · ${i.table}(${i.columns.join(', ')}) · ${kind}`));
    }
    return section;
  }

  private async _fork(source: string): Promise<void> {
    const answer = await InputDialog.getText({ title: `Fork ${source} as`, placeholder: 'new branch name' });
    if (answer.button.accept && answer.value) {
      if (this._link?.snapshot?.branch !== source) {
        await this._act({ action: 'checkout', branch: source });
      }
      await this._act({ action: 'fork', name: answer.value });
    }
  }

  private async _act(request: { action: string; [key: string]: string }): Promise<void> {
    if (!this._link) {
      return;
    }
    this._result.replaceChildren();
    try {
      const reply = await this._link.request({ type: 'action', ...request });
      if (!reply.ok) {
        this._result.append(el('div', 'rmdb-sb-error', reply.error ?? 'failed'));
      } else if (reply.html && request.action === 'diff') {
        const box = el('div', 'rmdb-sb-diff-result');
        box.innerHTML = reply.html;
        this._result.append(box);
      } else {
        this._result.append(el('div', 'rmdb-sb-message', reply.text || reply.line));
      }
    } catch (err) {
      this._result.append(el('div', 'rmdb-sb-error', String(err)));
    }
  }

  private _link: KernelLink | null = null;
  private _body: HTMLElement;
  private _status: HTMLElement;
  private _result: HTMLElement;
}
