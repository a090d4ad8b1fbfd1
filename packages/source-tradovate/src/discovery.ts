/**
 * Which option contracts make the NQ chain, through the REST lookups of reference §5 (all unverified for
 * options, §5.1, so every step can be steered from the config):
 *
 *   futures:  /product/find?name=NQ → /contractMaturity/deps?masterid=<productId> → /contract/deps per maturity
 *   options:  the option products (`option_products` by /product/find, or every Options product
 *             /product/suggest?t=NQ returns with the future's valuePerPoint) → /contractMaturity/deps →
 *             /contract/deps per expiration kept by the request; or `option_symbols` by /contract/find
 *   strike and right come from the contract's name (`option_name_pattern`, CME style "NQZ5 C21500")
 *   the underlying: ContractMaturity.underlyingId when it names a futures maturity or contract, else the
 *             nearest future expiring on or after the option (CME: options exercise into that quarterly)
 */
import { chicagoDate, type ChainRequest, InvalidRequestError, NoDataError, type ProgressUpdate } from "@nq/core";
import { throwIfAborted } from "./abort.js";
import { type ResolvedConfig, SOURCE_NAME } from "./config.js";

export interface Product {
  id: number;
  name: string;
  productType?: string;
  valuePerPoint?: number;
  description?: string;
}
export interface Contract {
  id: number;
  name: string;
  contractMaturityId: number;
}
export interface ContractMaturity {
  id: number;
  productId: number;
  expirationMonth?: number;
  expirationDate: string;
  underlyingId?: number;
  isFront?: boolean;
}

export interface FutureInfo {
  id: number;
  name: string;
  expiration: string;
}

export interface OptionInfo {
  id: number;
  name: string;
  root: string | null;
  expiration: string;
  expirationTime: string | null;
  strike: number;
  rawStrike: string;
  right: "C" | "P";
  multiplier: number | null;
  /** The future whose price is this option's underlyingPrice; null when none was found. */
  future: FutureInfo | null;
}

export interface Discovery {
  options: OptionInfo[];
  futures: FutureInfo[];
  /** Contract names that did not read as options, and other notes for the result's warnings. */
  warnings: string[];
}

/** An authenticated GET: the parsed JSON, or null when Tradovate has no such entity. */
export type Lookup = <T>(path: string, query: Record<string, string | number>) => Promise<T | null>;

export async function discover(
  get: Lookup,
  config: ResolvedConfig,
  request: ChainRequest,
  now: Date,
  signal: AbortSignal,
  progress: (update: ProgressUpdate) => void,
): Promise<Discovery> {
  const warnings: string[] = [];
  progress({ stage: `lookup /product/find ${config.future_product}` });
  const futureProduct = await get<Product>("/product/find", { name: config.future_product });
  if (!futureProduct) throw new NoDataError(SOURCE_NAME, `Tradovate has no product named "${config.future_product}"; check future_product`);
  const futureMaturities = ((await get<ContractMaturity[]>("/contractMaturity/deps", { masterid: futureProduct.id })) ?? [])
    .filter((m) => Date.parse(m.expirationDate) > now.getTime())
    .sort((a, b) => Date.parse(a.expirationDate) - Date.parse(b.expirationDate));
  const futureContracts = new Map<number, FutureInfo | null>();
  const futureOfMaturity = async (maturity: ContractMaturity): Promise<FutureInfo | null> => {
    if (!futureContracts.has(maturity.id)) {
      const contracts = (await get<Contract[]>("/contract/deps", { masterid: maturity.id })) ?? [];
      const contract = contracts[0];
      futureContracts.set(maturity.id, contract ? { id: contract.id, name: contract.name, expiration: expirationOf(maturity.expirationDate).date } : null);
    }
    return futureContracts.get(maturity.id) ?? null;
  };
  const byContractId = new Map<number, FutureInfo | null>();
  const futureFor = async (maturity: ContractMaturity): Promise<FutureInfo | null> => {
    if (config.use_underlying_id && maturity.underlyingId) {
      const asMaturity = futureMaturities.find((m) => m.id === maturity.underlyingId);
      if (asMaturity) return futureOfMaturity(asMaturity);
      if (!byContractId.has(maturity.underlyingId)) {
        const contract = await get<Contract>("/contract/item", { id: maturity.underlyingId });
        const of = contract ? futureMaturities.find((m) => m.id === contract.contractMaturityId) : undefined;
        byContractId.set(maturity.underlyingId, contract && of ? { id: contract.id, name: contract.name, expiration: expirationOf(of.expirationDate).date } : null);
      }
      const found = byContractId.get(maturity.underlyingId);
      if (found) return found;
    }
    const expiry = expirationOf(maturity.expirationDate).date;
    const next = futureMaturities.find((m) => expirationOf(m.expirationDate).date >= expiry);
    return next ? futureOfMaturity(next) : null;
  };

  // The option maturities, with their product's multiplier.
  type Series = { maturity: ContractMaturity; multiplier: number | null; contracts?: Contract[] };
  let series: Series[] = [];
  const multiplierOf = (product: Product | null | undefined) => positive(product?.valuePerPoint) ?? positive(futureProduct.valuePerPoint);
  if (config.option_symbols) {
    const maturities = new Map<number, Series>();
    for (const name of config.option_symbols) {
      throwIfAborted(signal);
      const contract = await get<Contract>("/contract/find", { name });
      if (!contract) {
        warnings.push(`option symbol ${name} is not known to Tradovate`);
        continue;
      }
      let entry = maturities.get(contract.contractMaturityId);
      if (!entry) {
        const maturity = await get<ContractMaturity>("/contractMaturity/item", { id: contract.contractMaturityId });
        if (!maturity) continue;
        entry = { maturity, multiplier: multiplierOf(null), contracts: [] };
        maturities.set(contract.contractMaturityId, entry);
      }
      entry.contracts!.push(contract);
    }
    series = [...maturities.values()];
  } else {
    const products = await optionProducts(get, config, futureProduct);
    for (const product of products) {
      throwIfAborted(signal);
      progress({ stage: `lookup /contractMaturity/deps ${product.name}` });
      for (const maturity of (await get<ContractMaturity[]>("/contractMaturity/deps", { masterid: product.id })) ?? []) {
        series.push({ maturity, multiplier: multiplierOf(product) });
      }
    }
  }

  // The request's and the config's filters, before anything is subscribed.
  series = series.filter((s) => Date.parse(s.maturity.expirationDate) > now.getTime() || expirationOf(s.maturity.expirationDate).date >= chicagoDate(now));
  for (const wanted of [request.expirations, config.expirations]) {
    if (wanted?.length) series = series.filter((s) => wanted.includes(expirationOf(s.maturity.expirationDate).date));
  }
  const maxExpirations = Math.min(request.maxExpirations ?? Infinity, config.max_expirations ?? Infinity);
  if (Number.isFinite(maxExpirations)) {
    const keep = new Set([...new Set(series.map((s) => expirationOf(s.maturity.expirationDate).date))].sort().slice(0, maxExpirations));
    series = series.filter((s) => keep.has(expirationOf(s.maturity.expirationDate).date));
  }
  if (series.length === 0) throw new NoDataError(SOURCE_NAME, "no NQ option expiration left after the request's filters; check expirations / max_expirations");

  const pattern = new RegExp(config.option_name_pattern);
  const strikeMin = Math.max(request.strikeMin ?? -Infinity, config.strike_min ?? -Infinity);
  const strikeMax = Math.min(request.strikeMax ?? Infinity, config.strike_max ?? Infinity);
  const options: OptionInfo[] = [];
  let unreadable = 0;
  for (const [index, entry] of series.entries()) {
    throwIfAborted(signal);
    progress({ stage: `lookup /contract/deps ${entry.maturity.id}`, done: index, total: series.length });
    const contracts = entry.contracts ?? (await get<Contract[]>("/contract/deps", { masterid: entry.maturity.id })) ?? [];
    const { date, time } = expirationOf(entry.maturity.expirationDate);
    const future = await futureFor(entry.maturity);
    for (const contract of contracts) {
      const groups = pattern.exec(contract.name)?.groups;
      const right = groups?.right?.toUpperCase();
      const strike = groups?.strike === undefined ? Number.NaN : Number(groups.strike) / config.strike_divisor;
      if (!groups || (right !== "C" && right !== "P") || !(strike > 0)) {
        unreadable += 1;
        continue;
      }
      if (strike < strikeMin || strike > strikeMax) continue;
      options.push({
        id: contract.id,
        name: contract.name,
        root: groups.root ?? null,
        expiration: date,
        expirationTime: time,
        strike,
        rawStrike: groups.strike!,
        right,
        multiplier: entry.multiplier,
        future,
      });
    }
  }
  progress({ stage: "lookups done", done: series.length, total: series.length });
  if (unreadable > 0) warnings.push(`${unreadable} contract name(s) did not read as options by option_name_pattern and were left out`);
  if (options.length === 0) throw new NoDataError(SOURCE_NAME, `no option contracts found for ${config.future_product}${unreadable ? ` (${unreadable} names did not match option_name_pattern)` : ""}; see the README on probing option discovery`);
  if (options.length > config.max_contracts) {
    throw new InvalidRequestError(
      SOURCE_NAME,
      `${options.length} option contracts would need ${options.length} quote subscriptions, more than max_contracts (${config.max_contracts}); narrow the request (max_expirations, strike_min/strike_max) or raise max_contracts`,
    );
  }
  const futures = new Map<number, FutureInfo>();
  for (const option of options) if (option.future) futures.set(option.future.id, option.future);
  const orphans = options.filter((o) => !o.future).length;
  if (orphans > 0) warnings.push(`${orphans} option(s) have no underlying future (no futures maturity on or after their expiration)`);
  return { options, futures: [...futures.values()], warnings };
}

async function optionProducts(get: Lookup, config: ResolvedConfig, future: Product): Promise<Product[]> {
  if (config.option_products) {
    const products: Product[] = [];
    for (const name of config.option_products) {
      const product = await get<Product>("/product/find", { name });
      if (!product) throw new NoDataError(SOURCE_NAME, `Tradovate has no product named "${name}"; check option_products`);
      if (product.productType && product.productType !== "Options") {
        throw new NoDataError(SOURCE_NAME, `Tradovate's product "${name}" is of type ${product.productType}, not Options; check option_products (probe /product/suggest?t=${config.option_search})`);
      }
      products.push(product);
    }
    return products;
  }
  const suggested = (await get<Product[]>("/product/suggest", { t: config.option_search, l: 100 })) ?? [];
  const value = positive(future.valuePerPoint);
  const products = suggested.filter((p) => p.productType === "Options" && (value === null || positive(p.valuePerPoint) === null || positive(p.valuePerPoint) === value));
  if (products.length === 0) {
    throw new NoDataError(
      SOURCE_NAME,
      `/product/suggest?t=${config.option_search} found no Options product worth ${value ?? "?"} per point; set option_products (or option_symbols) to Tradovate's names for the NQ options`,
    );
  }
  return products;
}

/**
 * An expiration from ContractMaturity.expirationDate: a bare date (midnight UTC) is that date; a time is
 * the Chicago date it falls on, and is kept as the expiration instant.
 */
export function expirationOf(iso: string): { date: string; time: string | null } {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return { date: iso.slice(0, 10), time: null };
  if (at.getUTCHours() === 0 && at.getUTCMinutes() === 0 && at.getUTCSeconds() === 0) return { date: at.toISOString().slice(0, 10), time: null };
  return { date: chicagoDate(at), time: at.toISOString() };
}

function positive(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : null;
}
