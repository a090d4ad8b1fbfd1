/**
 * The chain table: one row per strike, calls on the left, puts on the right, the strike in the middle,
 * the ATM row marked in words; every column sortable by a button in its header (keyboard reachable,
 * aria-sort set).
 */
import type { DecodedSide, IvCode } from "../data.js";
import { money, num } from "./format.js";

export interface TableModel {
  strikes: number[];
  c: DecodedSide;
  p: DecodedSide;
  /** indexes into strikes, in the order to show */
  rows: number[];
  atm: number | null;
  underlyingPrice: number | null;
}

type Field = "bid" | "ask" | "last" | "vol" | "oi" | "set" | "iv" | "dl";

const FIELDS: { key: Field; label: string; title: string }[] = [
  { key: "bid", label: "Bid", title: "bid" },
  { key: "ask", label: "Ask", title: "ask" },
  { key: "last", label: "Last", title: "last trade" },
  { key: "vol", label: "Vol", title: "session volume" },
  { key: "oi", label: "OI", title: "open interest" },
  { key: "set", label: "Settle", title: "settlement" },
  { key: "iv", label: "IV", title: "implied volatility" },
  { key: "dl", label: "Delta", title: "delta" },
];

export interface SortState {
  /** "k" for strike, or "c.oi", "p.iv"… */
  key: string;
  dir: 1 | -1;
}

export function tableHead(sort: SortState): string {
  const th = (key: string, label: string, title: string, cls = "") => {
    const sorted = sort.key === key ? (sort.dir === 1 ? "ascending" : "descending") : "none";
    return `<th scope="col" class="${cls}" aria-sort="${sorted}"><button type="button" data-sort="${key}" title="Sort by ${title}">${label}</button></th>`;
  };
  const calls = FIELDS.map((f) => th(`c.${f.key}`, f.label, `call ${f.title}`)).join("");
  const puts = FIELDS.map((f) => th(`p.${f.key}`, f.label, `put ${f.title}`)).join("");
  return (
    `<tr><th scope="colgroup" colspan="${FIELDS.length}" class="side-c">Calls</th><th class="strike" rowspan="2" scope="col" aria-sort="${sort.key === "k" ? (sort.dir === 1 ? "ascending" : "descending") : "none"}"><button type="button" data-sort="k" title="Sort by strike">Strike</button></th><th scope="colgroup" colspan="${FIELDS.length}" class="side-p">Puts</th></tr>` +
    `<tr>${calls}${puts}</tr>`
  );
}

export function sortRows(model: Pick<TableModel, "strikes" | "c" | "p">, indexes: number[], sort: SortState): number[] {
  const value = (i: number): number | null => {
    if (sort.key === "k") return model.strikes[i]!;
    const [side, field] = sort.key.split(".") as ["c" | "p", Field];
    return model[side][field][i] ?? null;
  };
  return [...indexes].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    // unknowns last whichever the direction
    if (va === null && vb === null) return model.strikes[a]! - model.strikes[b]!;
    if (va === null) return 1;
    if (vb === null) return -1;
    return (va - vb) * sort.dir || model.strikes[a]! - model.strikes[b]!;
  });
}

const BASIS_MARK: Record<IvCode, string> = { "-": "", n: "", m: "", s: '<span class="basis" title="from the settlement price">ˢ</span>', f: '<span class="basis" title="the feed\'s own">ᶠ</span>' };

function cell(value: number | null, field: Field, code: IvCode, itm: boolean): string {
  const cls = itm ? ' class="itm"' : "";
  if (code === "-") return `<td${cls}></td>`;
  if (value === null) return `<td${cls}><span aria-label="unknown">–</span></td>`;
  let text: string;
  if (field === "iv") text = `${(value * 100).toFixed(1)}%${BASIS_MARK[code]}`;
  else if (field === "dl") text = value.toFixed(3);
  else if (field === "vol" || field === "oi") text = num(value, 0);
  else text = money(value);
  return `<td${cls}>${text}</td>`;
}

export function tableBody(model: TableModel): string {
  const out: string[] = [];
  const f = model.underlyingPrice;
  for (const i of model.rows) {
    const k = model.strikes[i]!;
    const atm = k === model.atm;
    const callItm = f !== null && k < f;
    const putItm = f !== null && k > f;
    let row = atm ? '<tr class="atm">' : "<tr>";
    for (const field of FIELDS) row += cell(model.c[field.key][i] ?? null, field.key, model.c.ib[i] ?? "-", callItm);
    row += `<th scope="row" class="strike">${num(k)}${atm ? ' <span class="tag">ATM</span>' : ""}</th>`;
    for (const field of FIELDS) row += cell(model.p[field.key][i] ?? null, field.key, model.p.ib[i] ?? "-", putItm);
    out.push(`${row}</tr>`);
  }
  return out.join("");
}
