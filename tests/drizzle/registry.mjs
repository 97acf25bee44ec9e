// A tenant registry as apps build it with Drizzle, in the shapes tursotui must read.
//
//   node registry.mjs <url> <shape> create '<rows as JSON>'   table made by drizzle-kit's push,
//                                                              rows by drizzle-orm's insert
//   node registry.mjs <url> <shape> read                       every row, as drizzle-orm reads it
//
// Shapes: `snake` (explicit snake_case names), `camel` (Drizzle's default names: the keys),
// `names` (a `tenants` table keeping only database names, with extra columns).
import { createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { pushSQLiteSchema } from "drizzle-kit/api";

const shapes = {
  snake: sqliteTable("organizations", {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    slug: text("slug").notNull().unique(),
    dbUrl: text("db_url").notNull(),
    dbToken: text("db_token").notNull(),
    createdAt: integer("created_at", { mode: "timestamp" }),
  }),
  camel: sqliteTable("organizations", {
    id: text().primaryKey(),
    name: text().notNull(),
    slug: text().notNull().unique(),
    dbUrl: text().notNull(),
    dbToken: text().notNull(),
    createdAt: integer({ mode: "timestamp" }),
  }),
  names: sqliteTable("tenants", {
    id: integer().primaryKey({ autoIncrement: true }),
    name: text().notNull(),
    slug: text().notNull().unique(),
    dbName: text().notNull(),
    plan: text().notNull().default("free"),
    createdAt: integer({ mode: "timestamp" })
      .notNull()
      .$defaultFn(() => new Date()),
  }),
};

const [, , url, shape, command, rows] = process.argv;
const table = shapes[shape];
const client = createClient({ url });
const db = drizzle(client);
if (command === "create") {
  const { apply } = await pushSQLiteSchema({ table }, db);
  await apply();
  for (const row of JSON.parse(rows || "[]")) {
    if (row.createdAt !== undefined) row.createdAt = new Date(row.createdAt * 1000);
    await db.insert(table).values(row);
  }
} else {
  const all = await db.select().from(table);
  process.stdout.write(JSON.stringify(all.map((r) => ({ ...r, createdAt: r.createdAt?.getTime() ?? null }))));
}
client.close();
