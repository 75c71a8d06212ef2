/**
 * The EXPLAIN plan tree: a renderer of `application/vnd.rustmemodb.plan+json`.
 *
 * Each operator is a card (node type, details, estimated and actual rows, self time with
 * its share of the whole as a bar); children hang below with connector lines, and a
 * click on a card folds its subtree. The node with the most self time is marked
 * `slowest`; estimates off by 10x or more get a warning. The raw plan text is one click
 * away. Classes match the HTML form (rmdb-plan, rmdb-plan-card) the kernel also sends.
 */
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';
import { el } from './dom';

export const PLAN_MIME = 'application/vnd.rustmemodb.plan+json';

interface INode {
  node: string;
  details: string;
  est_rows: number | null;
  actual_rows: number | null;
  loops: number | null;
  time_ms: number | null;
  self_ms: number | null;
  children: INode[];
}

interface IPlan {
  title: string;
  analyze: boolean;
  raw: string;
  root: INode;
  slowest: number[] | null;
}

function count(value: number): string {
  return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(1);
}

function div(cls: string, text?: string): HTMLDivElement {
  return el('div', cls, text);
}

export class PlanRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(private options: IRenderMime.IRendererOptions) {
    super();
    this.addClass('rmdb-plan-output');
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const plan = model.data[this.options.mimeType] as unknown as IPlan;
    const root = div('rmdb-plan rmdb-plan-native');
    root.append(div('rmdb-plan-title', plan.title));
    const total = plan.analyze ? plan.root.time_ms : null;
    root.append(this._subtree(plan.root, [], plan.slowest, total));
    const details = document.createElement('details');
    const summary = document.createElement('summary');
    summary.textContent = 'raw plan';
    const pre = document.createElement('pre');
    pre.className = 'rmdb-plan-raw';
    pre.textContent = plan.raw;
    details.append(summary, pre);
    root.append(details);
    this.node.replaceChildren(root);
  }

  private _subtree(node: INode, path: number[], slowest: number[] | null, total: number | null): HTMLElement {
    const box = div('rmdb-plan-subtree');
    const isSlowest = slowest !== null && slowest.length === path.length && slowest.every((v, i) => v === path[i]);
    const card = div(`rmdb-plan-card${isSlowest ? ' rmdb-plan-slowest' : ''}`);
    const head = div('rmdb-plan-head');
    const name = document.createElement('span');
    name.className = 'rmdb-plan-node';
    name.textContent = node.node;
    head.append(name);
    if (isSlowest) {
      head.append(Object.assign(document.createElement('span'), { className: 'rmdb-plan-badge rmdb-plan-hot', textContent: 'slowest' }));
    }
    if (node.actual_rows !== null && node.est_rows !== null) {
      const ratio = Math.max(node.actual_rows, 1) / Math.max(node.est_rows, 1);
      if (ratio >= 10 || ratio <= 0.1) {
        const word = ratio > 1 ? `×${ratio.toFixed(0)} more rows than estimated` : `×${(1 / ratio).toFixed(0)} fewer rows than estimated`;
        head.append(Object.assign(document.createElement('span'), { className: 'rmdb-plan-badge rmdb-plan-warn', textContent: word }));
      }
    }
    if (node.children.length) {
      head.append(Object.assign(document.createElement('span'), { className: 'rmdb-plan-fold', textContent: `▾ ${node.children.length}` }));
    }
    card.append(head);
    if (node.details) {
      card.append(div('rmdb-plan-details', node.details));
    }
    const stats: string[] = [];
    if (node.est_rows !== null) {
      stats.push(`est ${count(node.est_rows)} rows`);
    }
    if (node.actual_rows !== null) {
      stats.push(`actual ${count(node.actual_rows)} rows${node.loops && node.loops > 1 ? ` × ${node.loops} loops` : ''}`);
    }
    let share: number | null = null;
    if (node.self_ms !== null && total) {
      share = Math.max(0, Math.min(1, node.self_ms / total));
      stats.push(`${node.self_ms.toFixed(2)} ms self (${Math.round(share * 100)}%)`);
    }
    card.append(div('rmdb-plan-stats', stats.join(' · ')));
    if (share !== null) {
      const bar = div('rmdb-plan-bar');
      const fill = div(`rmdb-plan-bar-fill${share >= 0.5 ? ' rmdb-plan-hot' : ''}`);
      fill.style.width = `${(share * 100).toFixed(1)}%`;
      bar.append(fill);
      card.append(bar);
    }
    box.append(card);
    if (node.children.length) {
      const kids = div('rmdb-plan-children');
      node.children.forEach((child, i) => kids.append(this._subtree(child, [...path, i], slowest, total)));
      box.append(kids);
      card.classList.add('rmdb-plan-foldable');
      card.onclick = () => {
        const folded = kids.classList.toggle('rmdb-plan-folded');
        card.querySelector('.rmdb-plan-fold')!.textContent = `${folded ? '▸' : '▾'} ${node.children.length}`;
      };
    }
    return box;
  }
}
