// Runs drizzle-orm's own libsql migrator: node migrate.mjs <url> <migrationsFolder>
import { createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";

const [, , url, migrationsFolder] = process.argv;
const client = createClient({ url });
await migrate(drizzle(client), { migrationsFolder });
client.close();
