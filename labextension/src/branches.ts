/**
 * The branch tree of `%sql --branches`: a renderer of `application/vnd.rustmemodb.branches+json`.
 *
 * The kernel sends this instead of its ipywidget once the extension has spoken on the
 * comm (rustmemodb_lab/widgets/branch_tree.py), so exported notebooks keep the tree as
 * HTML. One button per branch, indented under its parent; the current one is marked
 * (`mod-success`). A click checks the branch out through the kernel; the mark follows
 * the snapshots the kernel pushes, so a checkout from a cell or the sidebar shows too.
 */
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { INotebookTracker } from '@jupyterlab/notebook';
import { Widget } from '@lumino/widgets';
import { ISnapshot, KernelLink, linkFor } from './kernel';

export const BRANCHES_MIME = 'application/vnd.rustmemodb.branches+json';

interface ITree {
  connection: string;
  branches: Array<{ name: string; depth: number; current: boolean; summary: string; tooltip: string }>;
}

export class BranchTreeRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(private options: IRenderMime.IRendererOptions, private tracker: INotebookTracker) {
    super();
    this.addClass('rmdb-branch-tree-output');
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this._tree = model.data[this.options.mimeType] as unknown as ITree;
    const root = document.createElement('div');
    root.className = 'rmdb-branch-tree rmdb-bt';
    const title = document.createElement('div');
    title.className = 'rmdb-bt-title';
    title.innerHTML = '<b>branches</b> ';
    title.append(Object.assign(document.createElement('span'), { className: 'rmdb-bt-conn', textContent: this._tree.connection }));
    root.append(title);
    for (const b of this._tree.branches) {
      const row = document.createElement('div');
      row.className = 'rmdb-bt-row';
      row.style.marginLeft = `${b.depth * 22}px`;
      const button = document.createElement('button');
      button.className = 'rmdb-bt-button';
      button.dataset.branch = b.name;
      button.textContent = b.name;
      button.onclick = () => this._checkout(b.name);
      this._buttons.set(b.name, button);
      const info = document.createElement('span');
      info.className = 'rmdb-bt-info';
      info.textContent = b.summary;
      info.title = b.tooltip;
      row.append(button, info);
      root.append(row);
    }
    this._error = document.createElement('div');
    this._error.className = 'rmdb-bt-error';
    root.append(this._error);
    this.node.replaceChildren(root);
    this._mark(this._tree.branches.find(b => b.current)?.name ?? null);
  }

  protected onAfterAttach(): void {
    const link = this._link();
    if (link && link !== this._linked) {
      this._linked?.changed.disconnect(this._follow, this);
      this._linked = link;
      link.changed.connect(this._follow, this);
    }
  }

  dispose(): void {
    this._linked?.changed.disconnect(this._follow, this);
    super.dispose();
  }

  private _link(): KernelLink | null {
    const panel = this.tracker.find(p => p.node.contains(this.node));
    const kernel = panel?.sessionContext.session?.kernel;
    return kernel ? linkFor(kernel) : null;
  }

  private _follow(_: KernelLink, snap: ISnapshot | null): void {
    if (snap && snap.connection === this._tree?.connection && snap.branch) {
      this._mark(snap.branch);
    }
  }

  private _mark(current: string | null): void {
    for (const [name, button] of this._buttons) {
      const on = name === current;
      button.classList.toggle('mod-success', on);
      button.title = on ? 'current branch' : `check out ${name}`;
    }
  }

  private async _checkout(name: string): Promise<void> {
    const link = this._link();
    if (!link) {
      this._error!.textContent = 'no kernel';
      return;
    }
    try {
      const reply = await link.request({ type: 'action', action: 'checkout', branch: name });
      this._error!.textContent = reply.ok ? '' : reply.error ?? 'failed';
      if (reply.ok) {
        this._mark(name);
      }
    } catch (err) {
      this._error!.textContent = String(err);
    }
  }

  private _tree: ITree | null = null;
  private _buttons = new Map<string, HTMLButtonElement>();
  private _linked: KernelLink | null = null;
  private _error: HTMLElement | null = null;
}
