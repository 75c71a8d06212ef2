/**
 * Which text in a code cell is SQL: pure helpers shared by the highlighter and the tests.
 *
 * A cell is an SQL cell when its first non-blank line is a `%%sql` cell magic; then
 * everything after that first line is SQL. In any other cell, a line starting with
 * `%sql` (line magic) carries SQL after its options (`--on main`, `-o df`, `name <<`).
 */

/** CodeMirror's PostgreSQL dialect, as JupyterLab's language registry names it. */
export const SQL_MIME = 'text/x-pgsql';

/** True when the cell source is a `%%sql` cell. */
export function isSqlCell(source: string): boolean {
  return /^\s*%%sql(\s|$)/.test(source);
}

/** A span of SQL inside a line: [from, to) offsets relative to the line start. */
export interface ISpan {
  from: number;
  to: number;
}

/** Words that begin an SQL statement: the SQL of a `%sql` line starts at the first one. */
const STATEMENT_START = new Set([
  'select', 'with', 'insert', 'update', 'delete', 'create', 'drop', 'alter', 'explain',
  'begin', 'start', 'commit', 'rollback', 'savepoint', 'release', 'values', 'table', 'show',
  'set', 'reset', 'truncate', 'copy', 'analyze', 'prepare', 'execute', 'deallocate', 'merge'
]);

/**
 * The SQL part of a `%sql` line magic, or null when the line is not one or has no SQL.
 *
 * Options (`--on main`, `-o df`) and an assignment target (`name <<`) come first; the
 * SQL begins at the first word that starts a statement (SELECT, WITH, INSERT, ...).
 */
export function lineMagicSql(line: string): ISpan | null {
  const head = /^\s*%sql(?=\s|$)/.exec(line);
  if (!head) {
    return null;
  }
  const word = /[A-Za-z_]+/g;
  word.lastIndex = head[0].length;
  for (let m = word.exec(line); m; m = word.exec(line)) {
    const before = line[m.index - 1];
    if ((before === ' ' || before === '\t') && STATEMENT_START.has(m[0].toLowerCase())) {
      return { from: m.index, to: line.length };
    }
  }
  return null;
}
