/**
 * Databento's non-fatal warnings: the `X-Warning` header holds a JSON array of "<Category>: <message>"
 * strings. A .NET client once crashed on this header, so anything that is not that shape is kept as raw
 * text rather than thrown.
 */
export function parseWarningHeader(value: string | null): string[] {
  if (value === null || value.trim() === "") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return [value.trim()];
  }
  const entries = Array.isArray(parsed) ? parsed : [parsed];
  return entries.map((entry) => formatWarning(typeof entry === "string" ? entry : JSON.stringify(entry)));
}

/** "Warning: reduced quality…" → "reduced quality…"; other categories keep their name as a prefix. */
function formatWarning(entry: string): string {
  const split = entry.indexOf(": ");
  if (split < 0) return entry;
  const category = entry.slice(0, split);
  const message = entry.slice(split + 2);
  return category === "Warning" ? message : `${category}: ${message}`;
}
