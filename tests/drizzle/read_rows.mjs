// Reads every post and comment the way an app built on drizzle-orm does:
// node read_rows.mjs <url>. Prints {posts: [...], comments: [...]} ordered by id, with
// published_at / created_at as drizzle reads them (a Date in `timestamp` mode: its ms).
import { createClient } from "@libsql/client";
import { asc } from "drizzle-orm";
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

const comments = sqliteTable("comments", {
  id: text("id").primaryKey(),
  content: text("content").notNull(),
  postId: text("post_id").notNull(),
  authorId: text("author_id").notNull(),
  createdAt: integer("created_at", { mode: "timestamp" }),
});

const ms = (at) => (at === null ? null : at.getTime());
const [, , url] = process.argv;
const client = createClient({ url });
const db = drizzle(client);
const postRows = await db.select().from(posts).orderBy(asc(posts.id));
const commentRows = await db.select().from(comments).orderBy(asc(comments.id));
console.log(
  JSON.stringify({
    posts: postRows.map((p) => ({ ...p, publishedAt: ms(p.publishedAt) })),
    comments: commentRows.map((c) => ({ ...c, createdAt: ms(c.createdAt) })),
  }),
);
client.close();
