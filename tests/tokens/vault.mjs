// How an app following the per-tenant guide keeps tenant tokens "encrypted in production":
// AES-256-GCM with Node's crypto, stored as `v1.<iv>.<tag>.<ciphertext>` (base64url).
//
//   node vault.mjs encrypt   tokens on stdin, one a line -> one stored value a line
//   node vault.mjs decrypt   one stored value on stdin -> its token on stdout
//
// The key is 32 bytes in hex in VAULT_KEY. Used as TURSOTUI_TOKEN_COMMAND by the tests:
// tursotui passes the stored value on stdin and reads the token from stdout.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const key = Buffer.from(process.env.VAULT_KEY ?? "", "hex");
if (key.length !== 32) {
  process.stderr.write("VAULT_KEY must be 32 bytes of hex\n");
  process.exit(2);
}

function encrypt(token) {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([cipher.update(token, "utf8"), cipher.final()]);
  const parts = [iv, cipher.getAuthTag(), body].map((b) => b.toString("base64url"));
  return ["v1", ...parts].join(".");
}

function decrypt(stored) {
  const [version, iv, tag, body] = stored.split(".");
  if (version !== "v1" || body === undefined) throw new Error("not a v1 value");
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString("utf8");
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = Buffer.concat(chunks).toString("utf8");

try {
  if (process.argv[2] === "encrypt") {
    const lines = input.split("\n").filter((line) => line.length > 0);
    process.stdout.write(lines.map(encrypt).join("\n") + "\n");
  } else if (process.argv[2] === "decrypt") {
    process.stdout.write(decrypt(input.trim()) + "\n");
  } else {
    process.stderr.write("usage: node vault.mjs encrypt|decrypt\n");
    process.exit(2);
  }
} catch (error) {
  // What a careless helper does: echo its input. tursotui must never show this.
  process.stderr.write(`cannot decrypt ${input.trim()}: ${error.message}\n`);
  process.exit(1);
}
