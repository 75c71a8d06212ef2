/**
 * SQL highlighting in notebook cells, with CodeMirror 6's PostgreSQL dialect.
 *
 * Two mechanisms, as jupysql-plugin and jupyterlab-lsp do it in JupyterLab 4:
 * - a `%%sql` cell gets the cell model's MIME type `text/x-pgsql`, so JupyterLab's
 *   language registry gives its editor `sql({dialect: PostgreSQL})`; when the first line
 *   stops being `%%sql` the notebook's own MIME type (Python) comes back;
 * - an editor extension marks the SQL part of `%sql` lines in Python cells with the
 *   PostgreSQL parser's tokens, and the `%%sql ...` header line as a magic (not SQL).
 * Both add lezer's stable `tok-*` classes beside JupyterLab's theme classes, so the
 * colours are the theme's and tests/styles can name the token kinds.
 */
import { PostgreSQL } from '@codemirror/lang-sql';
import { syntaxHighlighting } from '@codemirror/language';
import { RangeSetBuilder } from '@codemirror/state';
import { Decoration, DecorationSet, EditorView, ViewPlugin, ViewUpdate } from '@codemirror/view';
import { classHighlighter, highlightTree } from '@lezer/highlight';
import { ICodeCellModel } from '@jupyterlab/cells';
import { EditorExtensionRegistry, IEditorExtensionRegistry, jupyterHighlightStyle } from '@jupyterlab/codemirror';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { isSqlCell, lineMagicSql, SQL_MIME } from './sqlcells';

/** Keep each code cell's MIME type in step with whether it is a `%%sql` cell. */
export function trackSqlCells(tracker: INotebookTracker): void {
  tracker.widgetAdded.connect((_, panel: NotebookPanel) => watchNotebook(panel));
  tracker.forEach(panel => watchNotebook(panel));
}

function watchNotebook(panel: NotebookPanel): void {
  const watched = new WeakSet<ICodeCellModel>();
  const sync = (): void => {
    const model = panel.content.model;
    if (!model) {
      return;
    }
    for (let i = 0; i < model.cells.length; i++) {
      const cell = model.cells.get(i);
      if (cell.type !== 'code') {
        continue;
      }
      const code = cell as ICodeCellModel;
      if (!watched.has(code)) {
        watched.add(code);
        code.contentChanged.connect(() => applyMime(panel, code));
        // The notebook resets every cell's MIME type when the kernel language arrives.
        code.mimeTypeChanged.connect(() => applyMime(panel, code));
      }
      applyMime(panel, code);
    }
  };
  panel.context.ready.then(() => {
    sync();
    panel.content.model?.cells.changed.connect(sync);
  });
  panel.content.modelChanged.connect(sync);
}

function applyMime(panel: NotebookPanel, cell: ICodeCellModel): void {
  const want = isSqlCell(cell.sharedModel.getSource()) ? SQL_MIME : panel.content.codeMimetype;
  if (cell.mimeType !== want) {
    cell.mimeType = want;
  }
}

const sqlMark = new Map<string, Decoration>();
const magicMark = Decoration.mark({ class: 'rmdb-sql-magic tok-meta' });

function mark(classes: string): Decoration {
  let deco = sqlMark.get(classes);
  if (!deco) {
    deco = Decoration.mark({ class: classes });
    sqlMark.set(classes, deco);
  }
  return deco;
}

/** Decorations: the `%%sql` header as a magic; the SQL of `%sql` lines as PostgreSQL tokens. */
function decorate(view: EditorView): DecorationSet {
  const builder = new RangeSetBuilder<Decoration>();
  const doc = view.state.doc;
  const text = doc.toString();
  if (isSqlCell(text)) {
    const first = doc.line(1);
    const start = first.text.indexOf('%%sql');
    builder.add(first.from + start, first.to, magicMark);
    return builder.finish();
  }
  for (let n = 1; n <= doc.lines; n++) {
    const line = doc.line(n);
    const span = lineMagicSql(line.text);
    if (!span) {
      continue;
    }
    const sql = line.text.slice(span.from, span.to);
    const tree = PostgreSQL.language.parser.parse(sql);
    const base = line.from + span.from;
    const pieces: Array<[number, number, string]> = [];
    highlightTree(tree, [jupyterHighlightStyle, classHighlighter], (from, to, classes) => {
      pieces.push([from, to, classes]);
    });
    pieces.sort((a, b) => a[0] - b[0]);
    for (const [from, to, classes] of pieces) {
      builder.add(base + from, base + to, mark(`rmdb-sql ${classes}`));
    }
  }
  return builder.finish();
}

const magicLines = ViewPlugin.fromClass(
  class {
    decorations: DecorationSet;
    constructor(view: EditorView) {
      this.decorations = decorate(view);
    }
    update(update: ViewUpdate): void {
      if (update.docChanged) {
        this.decorations = decorate(update.view);
      }
    }
  },
  { decorations: plugin => plugin.decorations }
);

/** Register the editor extension: stable `tok-*` classes and the `%sql` line decorations. */
export function registerSqlEditorExtension(registry: IEditorExtensionRegistry): void {
  registry.addExtension({
    name: 'rustmemodb-lab:sql-magics',
    factory: () =>
      EditorExtensionRegistry.createImmutableExtension([syntaxHighlighting(classHighlighter), magicLines])
  });
}
