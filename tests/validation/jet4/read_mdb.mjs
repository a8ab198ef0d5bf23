// Reads an .mdb with npm mdb-reader and prints {table: {columns: [{name, type, size}], rows: [[...]]}} as JSON.
// Dates are printed as ISO text (UTC, so run with TZ=UTC), numbers and strings as JSON values.
import { readFileSync } from "node:fs";
import MDBReader from "mdb-reader";

const reader = new MDBReader(readFileSync(process.argv[2]));
const out = {};
for (const name of reader.getTableNames()) {
  const table = reader.getTable(name);
  const columns = table.getColumns().map((c) => ({ name: c.name, type: c.type, size: c.size }));
  const rows = table.getData().map((row) =>
    columns.map((c) => {
      const v = row[c.name];
      if (v instanceof Date) return v.toISOString();
      return v === undefined ? null : v;
    }),
  );
  out[name] = { columns, rows };
}
process.stdout.write(JSON.stringify(out));
