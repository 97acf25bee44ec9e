// Reads a post's comments the way an app built on drizzle-orm does:
// node read_comments.mjs <url> <post id>. Prints them (every column) as JSON, by id.
import { createClient } from "@libsql/client";
import { asc, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/libsql";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

const comments = sqliteTable("comments", {
  id: text("id").primaryKey(),
  content: text("content").notNull(),
  postId: text("post_id").notNull(),
  authorId: text("author_id").notNull(),
  createdAt: integer("created_at", { mode: "timestamp" }),
});

const [, , url, postId] = process.argv;
const client = createClient({ url });
const found = await drizzle(client)
  .select()
  .from(comments)
  .where(eq(comments.postId, postId))
  .orderBy(asc(comments.id));
console.log(
  JSON.stringify(
    found.map((c) => ({
      ...c,
      createdAt: c.createdAt === null ? null : { date: c.createdAt instanceof Date, ms: c.createdAt.getTime() },
    })),
  ),
);
client.close();
