// pgjdbc against a live `cairn serve`: connect, DatabaseMetaData (getSchemas, getTables,
// getColumns) and PreparedStatement. Run with the source launcher:
// java -cp postgresql.jar Checks.java PORT. Prints one JSON object per check:
// {"client", "check", "ok", "error"}.
import java.sql.*;
import java.util.*;

public class Checks {
    interface Check { void run() throws Exception; }

    static Connection conn;

    static void expect(Object got, Object want) {
        if (!Objects.equals(got, want)) throw new AssertionError("got " + got + ", want " + want);
    }

    static String json(String s) {
        return s == null ? "null" : "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", " ") + "\"";
    }

    static void check(String name, Check c) {
        String error = null;
        try {
            c.run();
        } catch (Throwable e) {
            error = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        System.out.println("{\"client\": \"pgjdbc\", \"check\": " + json(name) + ", \"ok\": " + (error == null) + ", \"error\": " + json(error) + "}");
    }

    public static void main(String[] args) {
        String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/cairn";
        check("connect", () -> {
            conn = DriverManager.getConnection(url, "cairn", "");
            try (Statement s = conn.createStatement()) {
                s.execute("CREATE COLLECTION IF NOT EXISTS jdbc_people");
                s.execute("INSERT INTO jdbc_people (_id, name, age) VALUES ('j1', 'Ada', 36), ('j2', 'Alan', 41)");
            }
        });
        check("PreparedStatement", () -> {
            try (PreparedStatement p = conn.prepareStatement("SELECT name FROM jdbc_people WHERE age > ? ORDER BY age")) {
                p.setInt(1, 30);
                List<String> names = new ArrayList<>();
                try (ResultSet r = p.executeQuery()) { while (r.next()) names.add(r.getString(1)); }
                expect(names, List.of("Ada", "Alan"));
            }
        });
        check("DatabaseMetaData.getSchemas", () -> {
            List<String> schemas = new ArrayList<>();
            try (ResultSet r = conn.getMetaData().getSchemas()) { while (r.next()) schemas.add(r.getString("TABLE_SCHEM")); }
            if (!schemas.contains("commons")) throw new AssertionError("no commons in " + schemas);
        });
        check("DatabaseMetaData.getTables", () -> {
            List<String> tables = new ArrayList<>();
            try (ResultSet r = conn.getMetaData().getTables(null, "commons", "%", new String[] {"TABLE"})) {
                while (r.next()) tables.add(r.getString("TABLE_NAME"));
            }
            if (!tables.contains("jdbc_people")) throw new AssertionError("no jdbc_people in " + tables);
        });
        check("DatabaseMetaData.getColumns", () -> {
            Map<String, String> columns = new TreeMap<>();
            try (ResultSet r = conn.getMetaData().getColumns(null, "commons", "jdbc_people", "%")) {
                while (r.next()) columns.put(r.getString("COLUMN_NAME"), r.getString("TYPE_NAME"));
            }
            if (!columns.containsKey("name") || !columns.containsKey("age")) throw new AssertionError("columns " + columns);
        });
    }
}
