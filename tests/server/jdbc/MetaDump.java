import java.sql.*;
import java.util.*;

/**
 * Prints what pgjdbc's DatabaseMetaData answers, one "### call" section per call named in
 * args[3] (comma separated), every column of every row joined by "|": the differential
 * test (test_catalog_differential.py) runs it against PostgreSQL 15 and rustmemodb and
 * compares the sections. Args: JDBC URL, user, password, calls.
 */
public class MetaDump {
    static void dump(String title, ResultSet rs) throws SQLException {
        System.out.println("### " + title);
        ResultSetMetaData md = rs.getMetaData();
        StringBuilder h = new StringBuilder();
        for (int i = 1; i <= md.getColumnCount(); i++) h.append(i > 1 ? "|" : "").append(md.getColumnLabel(i));
        System.out.println(h);
        while (rs.next()) {
            StringBuilder b = new StringBuilder();
            for (int i = 1; i <= md.getColumnCount(); i++) b.append(i > 1 ? "|" : "").append(rs.getString(i));
            System.out.println(b);
        }
        rs.close();
    }
    public static void main(String[] args) throws Exception {
        Properties p = new Properties();
        p.setProperty("user", args[1]);
        p.setProperty("password", args[2]);
        try (Connection c = DriverManager.getConnection(args[0], p)) {
            DatabaseMetaData m = c.getMetaData();
            String[] calls = args[3].split(",");
            for (String call : calls) {
                try {
                    switch (call) {
                        case "tables_public": dump(call, m.getTables(null, "public", "%", new String[]{"TABLE", "VIEW", "MATERIALIZED VIEW", "SEQUENCE", "INDEX"})); break;
                        case "columns": dump(call, m.getColumns(null, "public", "%", "%")); break;
                        case "columns_s1": dump(call, m.getColumns(null, "s1", "%", "%")); break;
                        case "pk": dump(call, m.getPrimaryKeys(null, "public", "b")); dump(call + "_s1", m.getPrimaryKeys(null, "s1", "t2")); break;
                        case "imported": dump(call, m.getImportedKeys(null, "public", "f")); dump(call + "_s1", m.getImportedKeys(null, "s1", "t3")); break;
                        case "exported": dump(call, m.getExportedKeys(null, "public", "b")); break;
                        case "crossref": dump(call, m.getCrossReference(null, "public", "b", null, "public", "f")); break;
                        case "index": dump(call, m.getIndexInfo(null, "public", "b", false, false)); dump(call + "_uniq", m.getIndexInfo(null, "public", "b", true, false)); break;
                        case "schemas": dump(call, m.getSchemas()); break;
                        case "catalogs": dump(call, m.getCatalogs()); break;
                        case "tabletypes": dump(call, m.getTableTypes()); break;
                        case "typeinfo": dump(call, m.getTypeInfo()); break;
                        case "procedures": dump(call, m.getProcedures(null, "public", "%")); break;
                        case "functions": dump(call, m.getFunctions(null, "public", "%")); break;
                        case "functioncols": dump(call, m.getFunctionColumns(null, "public", "add1", "%")); break;
                        case "tableprivs": dump(call, m.getTablePrivileges(null, "public", "%")); break;
                        case "colprivs": dump(call, m.getColumnPrivileges(null, "public", "b", "%")); break;
                        case "udts": dump(call, m.getUDTs(null, "public", "%", null)); break;
                        case "bestrow": dump(call, m.getBestRowIdentifier(null, "public", "b", DatabaseMetaData.bestRowSession, true)); break;
                        case "version": dump(call, m.getVersionColumns(null, "public", "b")); break;
                        case "rsmd": {
                            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT * FROM b")) {
                                ResultSetMetaData md = rs.getMetaData();
                                System.out.println("### rsmd");
                                for (int i = 1; i <= md.getColumnCount(); i++) {
                                    System.out.println(md.getColumnName(i) + "|" + md.getColumnLabel(i) + "|" + md.getColumnType(i) + "|" + md.getColumnTypeName(i)
                                        + "|" + md.getPrecision(i) + "|" + md.getScale(i) + "|" + md.isNullable(i) + "|" + md.isAutoIncrement(i)
                                        + "|" + md.getColumnDisplaySize(i) + "|" + md.getTableName(i) + "|" + md.getSchemaName(i) + "|" + md.getColumnClassName(i)
                                        + "|" + md.isCaseSensitive(i) + "|" + md.isSigned(i) + "|" + md.isReadOnly(i) + "|" + md.isWritable(i));
                                }
                            }
                            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT * FROM f")) {
                                ResultSetMetaData md = rs.getMetaData();
                                System.out.println("### rsmd_f");
                                for (int i = 1; i <= md.getColumnCount(); i++) {
                                    System.out.println(md.getColumnName(i) + "|" + md.getColumnType(i) + "|" + md.getColumnTypeName(i)
                                        + "|" + md.getPrecision(i) + "|" + md.getScale(i) + "|" + md.isNullable(i) + "|" + md.isAutoIncrement(i));
                                }
                            }
                            break;
                        }
                        case "rsmd_source": {
                            // where each result column comes from (RowDescription's table oid
                            // and attnum): getTableName, isNullable, isAutoIncrement
                            System.out.println("### rsmd_source");
                            for (String q : new String[]{"SELECT * FROM b", "SELECT * FROM f",
                                    "SELECT f.*, 1 AS one FROM f JOIN b ON true"}) {
                                try (PreparedStatement s = c.prepareStatement(q); ResultSet rs = s.executeQuery()) {
                                    ResultSetMetaData md = rs.getMetaData();
                                    for (int i = 1; i <= md.getColumnCount(); i++) {
                                        System.out.println(q + "|" + md.getColumnName(i) + "|" + md.getColumnLabel(i)
                                            + "|" + md.getTableName(i) + "|" + md.getSchemaName(i)
                                            + "|" + md.isNullable(i) + "|" + md.isAutoIncrement(i));
                                    }
                                }
                            }
                            break;
                        }
                        case "misc":
                            System.out.println("### misc");
                            System.out.println(m.getDatabaseProductName() + "|" + m.getDatabaseMajorVersion() + "|" + m.getIdentifierQuoteString() + "|" + m.getSQLKeywords()
                              + "|" + m.getSearchStringEscape() + "|" + m.getUserName() + "|" + m.supportsTransactions()
                              + "|" + m.getMaxColumnNameLength() + "|" + m.getSchemaTerm() + "|" + m.getCatalogTerm() + "|" + m.getProcedureTerm());
                            break;
                        default: System.out.println("??? " + call);
                    }
                } catch (SQLException e) {
                    System.out.println("### " + call + " ERROR " + e.getSQLState() + " " + e.getMessage().split("\n")[0]);
                }
            }
        }
    }
}
