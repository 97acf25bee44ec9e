// Reads one post the way an app built on drizzle-orm does: node read_post.mjs <url> <id>
// (a server's token, if it needs one, in DRIZZLE_AUTH_TOKEN: never on the command line)
// Prints its status and how drizzle reads published_at (a Date in `timestamp` mode, or null).
import { createClient } from "@libsql/client";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/libsql";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

const posts = sqliteTable("posts", {
  id: text("id").primaryKey(),
  title: text("title").notNull(),
  content: text("content").notNull(),
  authorId: text("author_id").notNull(),
  publishedAt: integer("published_at", { mode: "timestamp" }),
  status: text("status").notNull().default("draft"),
});

const [, , url, id] = process.argv;
const client = createClient({ url, authToken: process.env.DRIZZLE_AUTH_TOKEN });
const [row] = await drizzle(client).select().from(posts).where(eq(posts.id, id));
const at = row.publishedAt;
console.log(
  JSON.stringify({
    status: row.status,
    publishedAt: at === null ? null : { date: at instanceof Date, ms: at.getTime() },
  }),
);
client.close();
