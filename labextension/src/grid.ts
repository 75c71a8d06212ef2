/**
 * The result grid: a renderer of `application/vnd.rustmemodb.result+json`.
 *
 * The output carries the columns, types, row count and first page; the grid draws only
 * the rows in view (fixed row height, a spacer as tall as all rows) and asks the kernel
 * for the pages it scrolls to over the `rustmemodb-lab` comm (kernel.ts), found through
 * the notebook the output sits in. Clicking a header sorts (ascending, descending, off)
 * and the filter row filters (substring, case-insensitive); both run as SQL in the kernel
 * (rustmemodb_lab/render/grid.py) and restart paging. Without a kernel (a reopened
 * notebook) the first page stays readable.
 */
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { INotebookTracker } from '@jupyterlab/notebook';
import { Widget } from '@lumino/widgets';
import { cellText } from './dom';
import { KernelLink, linkFor } from './kernel';

export const RESULT_MIME = 'application/vnd.rustmemodb.result+json';
const ROW_HEIGHT = 24;
const VIEW_ROWS = 16;

interface IResult {
  id: string;
  columns: string[];
  types: string[];
  total: number;
  offset: number;
  rows: unknown[][];
  page_size: number;
  branch: string | null;
  elapsed: number | null;
}

export class ResultGrid extends Widget implements IRenderMime.IRenderer {
  constructor(private options: IRenderMime.IRendererOptions, private tracker: INotebookTracker) {
    super();
    this.addClass('rmdb-grid-output');
    this._root = document.createElement('div');
    // rmdb-table: the class the HTML form of a result has, so both read as "a result table"
    this._root.className = 'rmdb-grid rmdb-table';
    this.node.append(this._root);
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this._data = model.data[this.options.mimeType] as unknown as IResult;
    this._total = this._data.total;
    this._pages.clear();
    this._pages.set(0, this._data.rows);
    this._build();
    this._draw();
  }

  protected onAfterAttach(): void {
    this._draw();
  }

  /** The comm of the kernel of the notebook this output is in. */
  private _link(): KernelLink | null {
    const panel = this.tracker.find(p => p.node.contains(this.node));
    const kernel = panel?.sessionContext.session?.kernel;
    return kernel ? linkFor(kernel) : null;
  }

  private _build(): void {
    const data = this._data!;
    const width = Math.max(1, data.columns.length);
    this._root.replaceChildren();
    this._head = document.createElement('div');
    this._head.className = 'rmdb-grid-head';
    this._filters = document.createElement('div');
    this._filters.className = 'rmdb-grid-filters';
    const template = `3.5em repeat(${width}, minmax(6em, 1fr))`;
    for (const row of [this._head, this._filters]) {
      row.style.gridTemplateColumns = template;
      row.append(document.createElement('span'));
    }
    data.columns.forEach((name, i) => {
      const head = document.createElement('div');
      head.className = 'rmdb-grid-col';
      head.dataset.column = name;
      head.title = 'click to sort';
      const label = document.createElement('span');
      label.className = 'rmdb-grid-name';
      label.textContent = name;
      const type = document.createElement('span');
      type.className = 'rmdb-grid-type';
      type.textContent = data.types[i] ?? '';
      head.append(label, type);
      head.onclick = () => this._toggleSort(name);
      this._head!.append(head);
      const input = document.createElement('input');
      input.className = 'rmdb-grid-filter';
      input.placeholder = 'filter';
      input.dataset.column = name;
      input.onkeydown = ev => {
        if (ev.key === 'Enter') {
          this._filter[name] = input.value;
          this._restart();
        }
      };
      this._filters!.append(input);
    });
    this._scroller = document.createElement('div');
    this._scroller.className = 'rmdb-grid-scroll';
    this._scroller.style.height = `${Math.min(VIEW_ROWS, Math.max(1, this._total)) * ROW_HEIGHT + 2}px`;
    this._spacer = document.createElement('div');
    this._spacer.className = 'rmdb-grid-spacer';
    this._scroller.append(this._spacer);
    this._scroller.onscroll = () => this._draw();
    this._template = template;
    this._footer = document.createElement('div');
    this._footer.className = 'rmdb-grid-footer';
    this._root.append(this._head, this._filters, this._scroller, this._footer);
  }

  private _draw(): void {
    if (!this._scroller || !this._data) {
      return;
    }
    this._spacer!.style.height = `${this._total * ROW_HEIGHT}px`;
    const first = Math.floor(this._scroller.scrollTop / ROW_HEIGHT);
    const last = Math.min(this._total, first + VIEW_ROWS + 2);
    const size = this._data.page_size;
    for (let p = Math.floor(first / size); p * size < last; p++) {
      if (!this._pages.has(p)) {
        this._fetch(p);
      }
    }
    const frag = document.createDocumentFragment();
    for (let r = first; r < last; r++) {
      const row = this._pages.get(Math.floor(r / size))?.[r % size];
      const line = document.createElement('div');
      line.className = 'rmdb-grid-row';
      line.dataset.row = String(r);
      line.style.top = `${r * ROW_HEIGHT}px`;
      line.style.gridTemplateColumns = this._template;
      const num = document.createElement('span');
      num.className = 'rmdb-grid-rownum';
      num.textContent = String(r + 1);
      line.append(num);
      this._data.columns.forEach((_, c) => {
        const cell = document.createElement('span');
        cell.className = 'rmdb-grid-cell';
        if (row === undefined) {
          cell.classList.add('rmdb-grid-loading');
          cell.textContent = '…';
        } else {
          const value = row[c];
          cell.textContent = cellText(value);
          if (value === null) {
            cell.classList.add('rmdb-grid-null');
          } else if (typeof value === 'number') {
            cell.classList.add('rmdb-grid-num');
          }
        }
        line.append(cell);
      });
      frag.append(line);
    }
    this._spacer!.replaceChildren(frag);
    const parts = [`${this._total.toLocaleString('en-US')} rows`];
    if (Object.values(this._filter).some(v => v)) {
      parts[0] += ` (filtered from ${this._data.total.toLocaleString('en-US')})`;
    }
    if (this._total) {
      // rows wholly or mostly in view, 1-based
      const top = Math.round(this._scroller.scrollTop / ROW_HEIGHT) + 1;
      const bottom = Math.min(this._total, Math.round((this._scroller.scrollTop + this._scroller.clientHeight) / ROW_HEIGHT));
      parts.push(`showing ${top.toLocaleString('en-US')}–${Math.max(top, bottom).toLocaleString('en-US')}`);
    }
    if (this._data.elapsed !== null && this._data.elapsed !== undefined) {
      parts.push(`${(this._data.elapsed * 1000).toFixed(1)} ms`);
    }
    if (this._data.branch) {
      parts.push(`branch ${this._data.branch}`);
    }
    if (this._error) {
      parts.push(this._error);
    }
    this._footer!.textContent = parts.join(' · ');
  }

  private _fetch(page: number): void {
    const key = `${this._generation}:${page}`;
    if (this._inflight.has(key)) {
      return;
    }
    const link = this._link();
    if (!link || !link.connected) {
      this._error = 'more rows need the kernel that ran this cell';
      return;
    }
    this._inflight.add(key);
    const generation = this._generation;
    const size = this._data!.page_size;
    const sort = this._sort ? [{ column: this._sort.column, desc: this._sort.desc }] : [];
    link
      .request({ type: 'page', id: this._data!.id, offset: page * size, limit: size, sort, filter: { ...this._filter } })
      .then(reply => {
        this._inflight.delete(key);
        if (generation !== this._generation) {
          return;
        }
        if (!reply.ok) {
          this._error = reply.error ?? 'page failed';
        } else {
          this._error = '';
          this._total = reply.total;
          this._pages.set(page, reply.rows);
        }
        this._draw();
      })
      .catch(err => {
        this._inflight.delete(key);
        this._error = String(err);
        this._draw();
      });
  }

  private _toggleSort(column: string): void {
    if (!this._sort || this._sort.column !== column) {
      this._sort = { column, desc: false };
    } else if (!this._sort.desc) {
      this._sort = { column, desc: true };
    } else {
      this._sort = null;
    }
    this._head!.querySelectorAll('.rmdb-grid-col').forEach(el => {
      const head = el as HTMLElement;
      head.classList.remove('rmdb-grid-asc', 'rmdb-grid-desc');
      if (this._sort && head.dataset.column === this._sort.column) {
        head.classList.add(this._sort.desc ? 'rmdb-grid-desc' : 'rmdb-grid-asc');
      }
    });
    this._restart();
  }

  /** New sort or filter: forget every page and page again from the top. */
  private _restart(): void {
    this._generation++;
    this._pages.clear();
    if (!this._sort && !Object.values(this._filter).some(v => v)) {
      this._pages.set(0, this._data!.rows);
      this._total = this._data!.total;
    }
    this._scroller!.scrollTop = 0;
    this._draw();
  }

  private _root: HTMLElement;
  private _data: IResult | null = null;
  private _total = 0;
  private _pages = new Map<number, unknown[][]>();
  private _inflight = new Set<string>();
  private _generation = 0;
  private _sort: { column: string; desc: boolean } | null = null;
  private _filter: Record<string, string> = {};
  private _error = '';
  private _template = '';
  private _head: HTMLElement | null = null;
  private _filters: HTMLElement | null = null;
  private _scroller: HTMLElement | null = null;
  private _spacer: HTMLElement | null = null;
  private _footer: HTMLElement | null = null;
}
