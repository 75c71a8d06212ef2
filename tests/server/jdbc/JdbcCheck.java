// pgjdbc against a PostgreSQL-protocol server: prepared statements (server-side after
// prepareThreshold), every engine type, batches, transactions, errors, metadata.
// Run: java -cp postgresql-42.7.13.jar JdbcCheck.java <url> <user> <password>
// Prints one "ok <check>" line per check; any failure exits non-zero with the reason.
import java.sql.*;
import java.util.*;

public class JdbcCheck {
    static void check(boolean cond, String what) {
        if (!cond) throw new AssertionError("FAILED " + what);
        System.out.println("ok " + what);
    }

    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        props.setProperty("user", args[1]);
        props.setProperty("password", args[2]);
        props.setProperty("prepareThreshold", "1");        // server-side statements at once
        try (Connection c = DriverManager.getConnection(args[0], props)) {
            try (Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS jt");
                s.execute("CREATE TABLE jt (id BIGINT PRIMARY KEY, name TEXT, score DOUBLE PRECISION, "
                          + "born DATE, seen TIMESTAMP, ok BOOLEAN, key UUID)");
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO jt VALUES (?, ?, ?, ?, ?, ?, ?)")) {
                for (int i = 1; i <= 5; i++) {
                    ps.setLong(1, i);
                    ps.setString(2, "n" + i);
                    ps.setDouble(3, i * 1.5);
                    ps.setDate(4, java.sql.Date.valueOf("2020-01-0" + i));
                    ps.setTimestamp(5, Timestamp.valueOf("2021-02-03 04:05:0" + i + ".25"));
                    ps.setBoolean(6, i % 2 == 0);
                    ps.setObject(7, UUID.fromString("12345678-1234-5678-1234-56781234567" + i));
                    ps.executeUpdate();
                }
            }
            check(true, "prepared insert");
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT id, name, score, born, seen, ok, key FROM jt WHERE id = ?")) {
                for (int round = 0; round < 3; round++) {
                    ps.setLong(1, 3);
                    try (ResultSet rs = ps.executeQuery()) {
                        check(rs.next(), "row found " + round);
                        check(rs.getLong(1) == 3 && rs.getString(2).equals("n3"), "long/text " + round);
                        check(rs.getDouble(3) == 4.5, "double " + round);
                        check(rs.getDate(4).toString().equals("2020-01-03"), "date " + round);
                        check(rs.getTimestamp(5).toString().equals("2021-02-03 04:05:03.25"),
                              "timestamp " + round);
                        check(!rs.getBoolean(6), "boolean " + round);
                        check(rs.getObject(7).equals(
                                UUID.fromString("12345678-1234-5678-1234-567812345673")), "uuid " + round);
                        check(!rs.next(), "one row " + round);
                    }
                }
                ResultSetMetaData md = ps.getMetaData();
                check(md.getColumnCount() == 7 && md.getColumnTypeName(1).equals("int8")
                      && md.getColumnTypeName(3).equals("float8"), "result metadata");
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE jt SET score = ? WHERE id = ?")) {
                for (int i = 1; i <= 5; i++) {
                    ps.setDouble(1, i * 10.0);
                    ps.setLong(2, i);
                    ps.addBatch();
                }
                int[] counts = ps.executeBatch();
                check(counts.length == 5 && Arrays.stream(counts).allMatch(n -> n == 1), "batch update");
            }
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("DELETE FROM jt WHERE id = 1");
                c.rollback();
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM jt")) {
                    rs.next();
                    check(rs.getLong(1) == 5, "rollback");
                }
                s.executeUpdate("DELETE FROM jt WHERE id = 1");
                c.commit();
                try (ResultSet rs = s.executeQuery("SELECT count(*), sum(score) FROM jt")) {
                    rs.next();
                    check(rs.getLong(1) == 4 && rs.getDouble(2) == 140.0, "commit");
                }
            }
            c.setAutoCommit(true);
            try (Statement s = c.createStatement()) {
                s.executeQuery("SELECT * FROM nope");
                check(false, "error expected");
            } catch (SQLException e) {
                check("42P01".equals(e.getSQLState()), "sqlstate 42P01");
            }
            try (Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS never_there");
                SQLWarning w = s.getWarnings();
                check(w != null && w.getMessage().contains("does not exist, skipping"), "notice as warning");
            }
            // arrays and intervals as parameters (setArray sends int8[]/text[] with their OIDs)
            try (Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS ja");
                s.execute("CREATE TABLE ja (id BIGINT PRIMARY KEY, nums BIGINT[], tags TEXT[], "
                          + "wait INTERVAL)");
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO ja VALUES (?, ?, ?, ?)")) {
                for (int round = 0; round < 3; round++) {
                    ps.setLong(1, round);
                    ps.setArray(2, c.createArrayOf("bigint", new Long[]{1L, null, (long) round}));
                    ps.setArray(3, c.createArrayOf("text", new String[]{"a b", "\"q\"", null}));
                    ps.setObject(4, new org.postgresql.util.PGInterval(0, 0, 1, 2, 30, 0));
                    ps.executeUpdate();
                }
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT nums, tags, wait FROM ja WHERE ? = ANY (nums) ORDER BY id")) {
                ps.setLong(1, 2);
                try (ResultSet rs = ps.executeQuery()) {
                    check(rs.next(), "array row found");
                    Long[] nums = (Long[]) rs.getArray(1).getArray();
                    check(Arrays.equals(nums, new Long[]{1L, null, 2L}), "bigint[] " + Arrays.toString(nums));
                    String[] tags = (String[]) rs.getArray(2).getArray();
                    check(Arrays.equals(tags, new String[]{"a b", "\"q\"", null}), "text[] " + Arrays.toString(tags));
                    check(rs.getObject(3).equals(new org.postgresql.util.PGInterval(0, 0, 1, 2, 30, 0)),
                          "interval " + rs.getObject(3));
                    check(!rs.next(), "one array row");
                }
            }
            DatabaseMetaData meta = c.getMetaData();
            check(meta.getDatabaseProductName().equals("PostgreSQL"), "product name");
            List<String> tables = new ArrayList<>();
            try (ResultSet rs = meta.getTables(null, "public", "%", new String[]{"TABLE"})) {
                while (rs.next()) tables.add(rs.getString("TABLE_NAME"));
            }
            check(tables.contains("jt"), "getTables " + tables);
            List<String> cols = new ArrayList<>();
            try (ResultSet rs = meta.getColumns(null, "public", "jt", "%")) {
                while (rs.next()) cols.add(rs.getString("COLUMN_NAME") + ":" + rs.getString("TYPE_NAME"));
            }
            check(cols.equals(List.of("id:int8", "name:text", "score:float8", "born:date",
                                      "seen:timestamp", "ok:bool", "key:uuid")), "getColumns " + cols);
            // getPrimaryKeys/getIndexInfo select fields of information_schema._pg_expandarray's
            // records; getImportedKeys joins the key's index and asks max_index_keys
            try (Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS jchild");
                s.execute("DROP TABLE IF EXISTS jparent");
                s.execute("CREATE TABLE jparent (a BIGINT, b TEXT, v BIGINT, PRIMARY KEY (a, b))");
                s.execute("CREATE INDEX jparent_v ON jparent (v)");
                s.execute("CREATE TABLE jchild (id BIGINT PRIMARY KEY, pa BIGINT, pb TEXT, "
                          + "FOREIGN KEY (pa, pb) REFERENCES jparent (a, b))");
            }
            List<String> pk = new ArrayList<>();
            try (ResultSet rs = meta.getPrimaryKeys(null, "public", "jparent")) {
                while (rs.next()) pk.add(rs.getString("COLUMN_NAME") + ":" + rs.getShort("KEY_SEQ")
                                         + ":" + rs.getString("PK_NAME"));
            }
            check(pk.equals(List.of("a:1:jparent_pkey", "b:2:jparent_pkey")), "getPrimaryKeys " + pk);
            List<String> ix = new ArrayList<>();
            try (ResultSet rs = meta.getIndexInfo(null, "public", "jparent", false, false)) {
                while (rs.next()) ix.add(rs.getString("INDEX_NAME") + ":" + rs.getString("COLUMN_NAME")
                                         + ":" + rs.getShort("ORDINAL_POSITION") + ":"
                                         + rs.getBoolean("NON_UNIQUE"));
            }
            check(ix.equals(List.of("jparent_pkey:a:1:false", "jparent_pkey:b:2:false",
                                    "jparent_v:v:1:true")), "getIndexInfo " + ix);
            List<String> fk = new ArrayList<>();
            try (ResultSet rs = meta.getImportedKeys(null, "public", "jchild")) {
                while (rs.next()) fk.add(rs.getString("PKTABLE_NAME") + "." + rs.getString("PKCOLUMN_NAME")
                                         + "<-" + rs.getString("FKCOLUMN_NAME") + ":"
                                         + rs.getShort("KEY_SEQ"));
            }
            check(fk.equals(List.of("jparent.a<-pa:1", "jparent.b<-pb:2")), "getImportedKeys " + fk);
            // int / smallint / serial columns: int4 / int2 in the metadata and the binary rows
            // (stored as int64, the declared width kept and checked)
            try (Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS jw");
                s.execute("CREATE TABLE jw (id serial PRIMARY KEY, a int, s smallint, b bigint)");
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO jw (a, s, b) VALUES (?, ?, ?)")) {
                ps.setInt(1, Integer.MAX_VALUE);
                ps.setShort(2, Short.MIN_VALUE);
                ps.setLong(3, 3_000_000_000L);
                ps.executeUpdate();
                ps.setLong(1, 2_147_483_648L);
                ps.setShort(2, (short) 1);
                ps.setLong(3, 1L);
                try {
                    ps.executeUpdate();
                    check(false, "int out of range expected");
                } catch (SQLException e) {
                    check("22003".equals(e.getSQLState()), "int out of range 22003");
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT id, a, s, b, a + 1 FROM jw WHERE id = ?")) {
                for (int round = 0; round < 3; round++) {      // text, then binary once prepared
                    ps.setInt(1, 1);
                    try (ResultSet rs = ps.executeQuery()) {
                        check(rs.next() && rs.getInt(1) == 1 && rs.getInt(2) == Integer.MAX_VALUE
                              && rs.getShort(3) == Short.MIN_VALUE && rs.getLong(4) == 3_000_000_000L
                              && rs.getLong(5) == 2_147_483_648L, "int widths row " + round);
                        ResultSetMetaData md = rs.getMetaData();
                        check(md.getColumnType(1) == Types.INTEGER && md.getColumnType(2) == Types.INTEGER
                              && md.getColumnType(3) == Types.SMALLINT && md.getColumnType(4) == Types.BIGINT
                              && md.getColumnType(5) == Types.BIGINT
                              && md.getColumnTypeName(2).equals("int4")
                              && md.getColumnTypeName(1).equals("serial"), "int widths getColumnType " + round);
                    }
                }
            }
            List<String> wcols = new ArrayList<>();
            try (ResultSet rs = meta.getColumns(null, "public", "jw", null)) {
                while (rs.next()) wcols.add(rs.getString("COLUMN_NAME") + ":" + rs.getString("TYPE_NAME")
                                            + ":" + rs.getInt("DATA_TYPE"));
            }
            check(wcols.equals(List.of("id:serial:" + Types.INTEGER, "a:int4:" + Types.INTEGER,
                                       "s:int2:" + Types.SMALLINT, "b:int8:" + Types.BIGINT)),
                  "int widths getColumns " + wcols);
        }
        System.out.println("ALL OK");
    }
}
