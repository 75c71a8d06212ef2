/**
 * Plugin wiring of the RustMemDB Lab front end; each feature lives in its own module.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { IEditorExtensionRegistry } from '@jupyterlab/codemirror';
import { INotebookTracker } from '@jupyterlab/notebook';
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

export default [highlighting, sidebar];
