/**
 * Plugin wiring of the RustMemDB Lab front end; each feature lives in its own module.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { IEditorExtensionRegistry } from '@jupyterlab/codemirror';
import { INotebookTracker } from '@jupyterlab/notebook';
import { registerSqlEditorExtension, trackSqlCells } from './highlight';

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

export default [highlighting];
