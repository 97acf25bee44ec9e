// Reads one author's rows the way an app built on drizzle-orm does:
//   node read_author.mjs <url> <author id>
// Prints their posts (status, publishedAt as drizzle's `timestamp` mode reads it) and their
// comments, and how many comments the tenant holds in all, as JSON.
import { createClient } from "@libsql/client";
import { asc, count, eq } from "drizzle-orm";
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

const [, , url, author] = process.argv;
const client = createClient({ url });
const db = drizzle(client);
const theirPosts = await db.select().from(posts).where(eq(posts.authorId, author)).orderBy(asc(posts.id));
const theirComments = await db
  .select()
  .from(comments)
  .where(eq(comments.authorId, author))
  .orderBy(asc(comments.id));
const [{ total }] = await db.select({ total: count() }).from(comments);
console.log(
  JSON.stringify({
    posts: theirPosts.map((p) => ({
      id: p.id,
      status: p.status,
      publishedAt: p.publishedAt === null ? null : p.publishedAt.getTime() / 1000,
    })),
    comments: theirComments.map((c) => ({ id: c.id, content: c.content })),
    total,
  }),
);
client.close();
