/**
 * Plugin wiring of the RustMemDB Lab front end; each feature lives in its own module.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { IEditorExtensionRegistry } from '@jupyterlab/codemirror';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { BRANCHES_MIME, BranchTreeRenderer } from './branches';
import { DIFF_MIME, DiffRenderer } from './diff';
import { RESULT_MIME, ResultGrid } from './grid';
import { PLAN_MIME, PlanRenderer } from './plan';
import { registerSqlEditorExtension, trackSqlCells } from './highlight';
import { Sidebar } from './sidebar';

const highlighting: JupyterFrontEndPlugin<void> = {
  id: 'rustmemodb-lab:sql-highlighting',
  description: '%%sql cells and %sql lines highlighted with the PostgreSQL dialect.',
  autoStart: true,
  requires: [INotebookTracker, IEditorExtensionRegistry],
  activate: (_app: JupyterFrontEnd, tracker: INotebookTracker, registry: IEditorExtensionRegistry) => {
    registerSqlEditorExtension(registry);
    trackSqlCells(tracker);
  }
};

const sidebar: JupyterFrontEndPlugin<void> = {
  id: 'rustmemodb-lab:sidebar',
  description: 'Left panel: tables, views, indexes and branches of the active notebook.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ILayoutRestorer],
  activate: (app: JupyterFrontEnd, tracker: INotebookTracker, restorer: ILayoutRestorer | null) => {
    const panel = new Sidebar(tracker);
    app.shell.add(panel, 'left', { rank: 850 });
    restorer?.add(panel, panel.id);
  }
};

const renderers: JupyterFrontEndPlugin<void> = {
  id: 'rustmemodb-lab:renderers',
  description: 'Renderers: the paged result grid, the plan tree, the branch diff grid and the branch tree.',
  autoStart: true,
  requires: [INotebookTracker, IRenderMimeRegistry],
  activate: (_app: JupyterFrontEnd, tracker: INotebookTracker, rendermime: IRenderMimeRegistry) => {
    // Rank 0: ahead of text/html, which every such output also carries for exports.
    rendermime.addFactory(
      { safe: true, mimeTypes: [RESULT_MIME], createRenderer: options => new ResultGrid(options, tracker) },
      0
    );
    rendermime.addFactory({ safe: true, mimeTypes: [PLAN_MIME], createRenderer: options => new PlanRenderer(options) }, 0);
    rendermime.addFactory({ safe: true, mimeTypes: [DIFF_MIME], createRenderer: options => new DiffRenderer(options) }, 0);
    rendermime.addFactory(
      { safe: true, mimeTypes: [BRANCHES_MIME], createRenderer: options => new BranchTreeRenderer(options, tracker) },
      0
    );
  }
};

export default [highlighting, sidebar, renderers];
