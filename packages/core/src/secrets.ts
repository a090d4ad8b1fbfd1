/**
 * One process-wide list of credentials that must never be printed. Whoever reads a credential (the config
 * loader, a source's create()) registers it here; every SourceError message and every log line passes
 * through `redactSecrets`, so a key cannot leak through an error a plugin author forgot to sanitize.
 */
const secrets = new Set<string>();

/** Secrets shorter than this are not redacted: replacing "1" everywhere would mangle every number. */
const MIN_SECRET_LENGTH = 6;

export function registerSecret(value: string | null | undefined): void {
  if (typeof value === "string" && value.length >= MIN_SECRET_LENGTH) secrets.add(value);
}

export function redactSecrets(text: string): string {
  let out = text;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join(maskFor(secret));
  }
  return out;
}

/** Keeps the last 3 characters, which is what users need to tell two keys apart. */
function maskFor(secret: string): string {
  return `***${secret.slice(-3)}`;
}

/** Config keys whose values are treated as credentials when a profile is loaded. */
export function isSecretFieldName(name: string): boolean {
  return /(^|_|-)(api_?key|key|token|secret|password|passwd)$/i.test(name) || /apikey|password|secret|token/i.test(name);
}
