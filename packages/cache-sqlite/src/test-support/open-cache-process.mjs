/**
 * Opens a cache through the built package in a separate process — run as another user by the permission
 * tests — and prints one JSON line: { opened: true } or the error's { name, code, reason, message }.
 * Argument: JSON { file, readOnly? }.
 */
import { openSqliteCache } from "../../dist/index.js";

const options = JSON.parse(process.argv[2] ?? "{}");
try {
  const cache = await openSqliteCache({ path: options.file, read_only: options.readOnly ?? false });
  await cache.close();
  process.stdout.write(`${JSON.stringify({ opened: true })}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ name: error.name, code: error.code, reason: error.reason, message: error.message })}\n`);
}
