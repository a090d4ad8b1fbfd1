/** Number formatting with cached Intl.NumberFormat objects (toLocaleString with options builds one per call). */
const cache = new Map<string, Intl.NumberFormat>();

export function formatter(minDigits: number, maxDigits: number): Intl.NumberFormat {
  const key = `${minDigits}:${maxDigits}`;
  let format = cache.get(key);
  if (!format) cache.set(key, (format = new Intl.NumberFormat("en-US", { minimumFractionDigits: minDigits, maximumFractionDigits: maxDigits })));
  return format;
}

/** 25,412.5 — up to `digits` decimals. */
export const num = (value: number, digits = 2): string => formatter(0, digits).format(value);
/** 25,412.50 — exactly two decimals. */
export const money = (value: number): string => formatter(2, 2).format(value);
