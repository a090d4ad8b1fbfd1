/**
 * One process-wide list of credentials that must never be printed. Whoever reads a credential (the config
 * loader, a source's create()) registers it here; every SourceError message and every log line passes
 * through `redactSecrets`, so a key cannot leak through an error a plugin author forgot to sanitize.
 *
 * The list lives on `globalThis` under a registered symbol, so a plugin that resolved its own copy of
 * @nq/core redacts the keys the runner's copy registered, and the other way round.
 *
 * A server that echoes a credential rarely echoes it verbatim: HTTP Basic auth sends `base64("<key>:")`,
 * a query string sends it percent-encoded. Each registered secret is therefore redacted in every encoding
 * a request may carry it in (see `encodingsOf`).
 */
const STORE = Symbol.for("@nq/core/secrets@1");

/** Encoded form → the mask shown in its place. */
type SecretStore = Map<string, string>;

function store(): SecretStore {
  const holder = globalThis as unknown as Record<symbol, SecretStore | undefined>;
  return (holder[STORE] ??= new Map());
}

/** Secrets shorter than this are not redacted: replacing "1" everywhere would mangle every number. */
const MIN_SECRET_LENGTH = 6;

/** Longest first, so a longer encoding is masked whole before a shorter one inside it. */
let ordered: [string, string][] | null = null;

export function registerSecret(value: string | null | undefined): void {
  if (typeof value !== "string" || value.length < MIN_SECRET_LENGTH) return;
  const secrets = store();
  if (secrets.has(value)) return;
  const mask = maskFor(value);
  for (const encoded of encodingsOf(value)) {
    if (encoded.length >= MIN_SECRET_LENGTH && !secrets.has(encoded)) secrets.set(encoded, encoded === value ? mask : `${mask}(encoded)`);
  }
  secrets.set(value, mask);
  ordered = null;
}

export function redactSecrets(text: string): string {
  const secrets = store();
  if (secrets.size === 0) return text;
  if (ordered === null || ordered.length !== secrets.size) ordered = [...secrets.entries()].sort((a, b) => b[0].length - a[0].length);
  let out = text;
  for (const [secret, mask] of ordered) {
    if (out.includes(secret)) out = out.split(secret).join(mask);
  }
  return out;
}

/**
 * The forms a credential travels in: as is; base64 and base64url of the key alone, of `key:` (HTTP Basic
 * with the key as user name, as Databento does) and of `:key` (the key as password); each of those
 * percent-encoded (with upper- and lower-case hex), and the key itself percent-encoded.
 */
export function encodingsOf(secret: string): string[] {
  const forms = new Set<string>([secret]);
  for (const plain of [secret, `${secret}:`, `:${secret}`]) {
    const base64 = Buffer.from(plain, "utf8").toString("base64");
    forms.add(base64);
    forms.add(base64.replace(/=+$/, ""));
    forms.add(Buffer.from(plain, "utf8").toString("base64url"));
  }
  for (const form of [...forms]) {
    const encoded = encodeURIComponent(form);
    forms.add(encoded);
    forms.add(encoded.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()));
    forms.add(form.replace(/[^A-Za-z0-9\-_.~]/g, (c) => (c === " " ? "+" : encodeURIComponent(c))));
  }
  return [...forms];
}

/** Keeps the last 3 characters, which is what users need to tell two keys apart. */
function maskFor(secret: string): string {
  return `***${secret.slice(-3)}`;
}

/** Config keys whose values are treated as credentials when a profile is loaded. */
export function isSecretFieldName(name: string): boolean {
  return /(^|_|-)(api_?key|key|token|secret|password|passwd)$/i.test(name) || /apikey|password|secret|token|credential/i.test(name);
}
