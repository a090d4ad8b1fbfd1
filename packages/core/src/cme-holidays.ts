/**
 * CME Globex holiday hours for equity-index futures and options (NQ and its options), 2024–2027, as data.
 * `cme-calendar.ts` turns these into sessions and trade dates; a profile may replace or extend them.
 *
 * All times are America/Chicago (CT). Three kinds of day:
 *
 * - **closure** (`holidays`): no trading and no trade date. The session that would have ended that day does
 *   not happen: Globex is shut from 16:00 CT the day before until 17:00 CT on the holiday (Sunday 17:00 when
 *   the holiday is a Friday), when the next trade date's session opens.
 * - **halt** (`halts`): a US holiday on which Globex still trades in the morning. The session that opened at
 *   17:00 CT the evening before trades until the halt (12:00 CT on MLK, Presidents, Memorial, Juneteenth,
 *   Independence, Labor and Thanksgiving Day), then stops; the next session opens at 17:00 CT the same day
 *   (Sunday 17:00 when the holiday is a Friday). The holiday is NOT a trade date: CME publishes no settlement
 *   for it, and everything traded from the previous evening to the halt belongs to the NEXT trade date,
 *   together with that trade date's own session. Example, MLK Day 2026 (Monday 2026-01-19): Sunday 17:00 →
 *   Monday 12:00 and Monday 17:00 → Tuesday 16:00 are both trade date Tuesday 2026-01-20, and Friday
 *   2026-01-16's settlement stays the latest final one until Tuesday's. When the holiday is a Friday
 *   (Juneteenth 2026) the Thursday-evening-to-Friday-noon trading belongs to Monday's trade date.
 * - **early close** (`earlyCloses`): an ordinary trade date whose session ends early (12:15 CT on the day
 *   after Thanksgiving, Christmas Eve and the day before Independence Day), with its own settlement.
 *
 * Sources (read 2026 through a search index of public pages; CME's own trading-hours tool is interactive and
 * its per-holiday tables could not be read directly here):
 *  [CME-HC]   CME Group holiday calendar: https://www.cmegroup.com/tools-information/holiday-calendar.html
 *             (since 2023 the per-holiday tables live in https://www.cmegroup.com/trading-hours.html, one
 *             date at a time, e.g. https://www.cmegroup.com/trading-hours.html#tradeDate=2026-06-19).
 *  [EDGE26]   CME's 2026 Globex holiday schedule as republished by a clearing firm:
 *             https://edgeclear.com/exchange-holiday-hours/ — "Dr. Martin Luther King, Jr. … Trade Day:
 *             Tuesday, January 20 … Equities: Sunday, January 18 Open @ 17:00 CT; Monday, January 19 Trading
 *             Halt @ 12:00 CT, Open @ 17:00 CT; Tuesday, January 20 Regular Close @ 16:00 CT".
 *  [XYZ26]    "CME Equities Holiday closures" for 2026 (times in ET), https://docs.trade.xyz/consolidated-
 *             resources/holiday-closures: Jan 1 closed; Jan 19, Feb 16, May 25, Sep 7, Nov 26 open to 13:00
 *             and from 18:00 ET; Apr 3 open to 09:15 ET; Jun 19, Jul 3 open to 13:00 ET; Nov 27 and Dec 24
 *             open to 13:15 ET; Dec 25 closed; Dec 31 regular (17:00 ET).
 *  [LEAN9552] QuantConnect/Lean issue 9552, quoting CME's trading-hours page for NQ on Juneteenth 2026: an
 *             electronic session closing 13:00 ET on 2026-06-19 whose trade date is Monday 2026-06-22.
 *  [CME06]    CME press release, 2006-01-10 (MLK holiday): "CME Globex opens at 5:00 p.m. (for trade date
 *             of Tuesday, Jan. 17)" — the holiday's trading belongs to the next trade date.
 *             https://www.cmegroup.com/media-room/press-releases/2006/1/10/cme_announces_drmartinlutherkingjrholidaytradinghours.html
 *  [FXL24]    Thanksgiving 2024 summary of CME's schedule: equity products halted 12:00 CT on 2024-11-28.
 *             https://www.forexlive.com/news/cme-adjusted-trading-hours-for-various-products-during-thanksgiving-holiday-2024-20241128/
 *  [CME-DOM]  CME Group, National Day of Mourning (2024-12-30 announcement): US equity markets open until
 *             08:30 CT on 2025-01-09; Globex reopens at the regular time that day for trade date 2025-01-10.
 *             https://mondovisione.com/media-and-resources/news/cme-group-announces-trading-hours-for-us-national-day-of-mourning-to-honor-for/
 *  [PMC]      pandas_market_calendars, CME Globex equities calendar (rules citing [CME-HC]): closures on New
 *             Year's Day, Good Friday and Christmas; 12:00 CT halts on MLK, Presidents, Memorial, Juneteenth,
 *             Independence, Labor and Thanksgiving Day; 12:15 CT early closes on the day after Thanksgiving,
 *             Christmas Eve and 3 July when 4 July is Tuesday–Friday.
 *             https://github.com/rsheftel/pandas_market_calendars/blob/master/pandas_market_calendars/calendars/cme_globex_equities.py
 *
 * What is NOT confirmed by a source read for this file (each row says so too):
 *  - 2027 as a whole: CME had not published 2027 holiday hours in any source found; 2027 rows follow the
 *    2024–2026 pattern ([PMC] rules) and must be checked against [CME-HC] when CME publishes them.
 *  - 2024 and 2025 rows are the [PMC] pattern applied to those years, consistent with [FXL24] and [CME-DOM];
 *    no CME table for each 2024/2025 date was read.
 *  - Good Friday 2026 (2026-04-03): [XYZ26] gives equity trading until 09:15 ET (08:15 CT; the BLS jobs report
 *    is released that morning). That this trading belongs to Monday 2026-04-06's trade date (no settlement
 *    on Good Friday) is modelled by analogy with the holiday halts, not read from CME.
 *  - Good Friday 2024, 2025 and 2027 are full closures (no jobs report on those days); an abbreviated session
 *    like 2026's is not ruled out by a source.
 *  - No early close is modelled on 2026-07-02, 2027-07-02 or 2027-12-23 (the days before observed holidays
 *    that fall on a weekend): NYSE does not close early on them and [XYZ26] shows none for 2026-07-02.
 */
import type { EarlyClose, HolidayHalt } from "./cme-calendar.js";

/** The years the built-in data covers; outside them only weekends are known (give your own holidays). */
export const CME_HOLIDAY_DATA_YEARS = { first: 2024, last: 2027 } as const;

/** Full closures: no trading, no trade date. */
export const CME_EQUITY_CLOSURES: readonly { date: string; name: string }[] = [
  { date: "2024-01-01", name: "New Year's Day" },
  { date: "2024-03-29", name: "Good Friday" }, // [PMC]; unconfirmed by a CME table
  { date: "2024-12-25", name: "Christmas Day" },
  { date: "2025-01-01", name: "New Year's Day" },
  { date: "2025-04-18", name: "Good Friday" }, // [PMC]; unconfirmed by a CME table
  { date: "2025-12-25", name: "Christmas Day" },
  { date: "2026-01-01", name: "New Year's Day" }, // [XYZ26]
  { date: "2026-12-25", name: "Christmas Day" }, // [XYZ26]
  { date: "2027-01-01", name: "New Year's Day" }, // 2027: unconfirmed
  { date: "2027-03-26", name: "Good Friday" }, // 2027: unconfirmed
  { date: "2027-12-24", name: "Christmas Day (observed; 25 December is a Saturday)" }, // 2027: unconfirmed
];

/** US holidays on which Globex trades until the halt; the trading belongs to the next trade date. */
export const CME_EQUITY_HALTS: readonly HolidayHalt[] = [
  { date: "2024-01-15", halt: "12:00", name: "Martin Luther King Jr. Day" },
  { date: "2024-02-19", halt: "12:00", name: "Presidents Day" },
  { date: "2024-05-27", halt: "12:00", name: "Memorial Day" },
  { date: "2024-06-19", halt: "12:00", name: "Juneteenth" },
  { date: "2024-07-04", halt: "12:00", name: "Independence Day" },
  { date: "2024-09-02", halt: "12:00", name: "Labor Day" },
  { date: "2024-11-28", halt: "12:00", name: "Thanksgiving Day" }, // [FXL24]
  { date: "2025-01-20", halt: "12:00", name: "Martin Luther King Jr. Day" },
  { date: "2025-02-17", halt: "12:00", name: "Presidents Day" },
  { date: "2025-05-26", halt: "12:00", name: "Memorial Day" },
  { date: "2025-06-19", halt: "12:00", name: "Juneteenth" },
  { date: "2025-07-04", halt: "12:00", name: "Independence Day" },
  { date: "2025-09-01", halt: "12:00", name: "Labor Day" },
  { date: "2025-11-27", halt: "12:00", name: "Thanksgiving Day" },
  { date: "2026-01-19", halt: "12:00", name: "Martin Luther King Jr. Day" }, // [EDGE26] [XYZ26]
  { date: "2026-02-16", halt: "12:00", name: "Presidents Day" }, // [XYZ26]
  { date: "2026-04-03", halt: "08:15", name: "Good Friday (jobs report; trade date of the next session unconfirmed)" }, // [XYZ26]
  { date: "2026-05-25", halt: "12:00", name: "Memorial Day" }, // [XYZ26]
  { date: "2026-06-19", halt: "12:00", name: "Juneteenth" }, // [XYZ26] [LEAN9552]
  { date: "2026-07-03", halt: "12:00", name: "Independence Day (observed)" }, // [XYZ26]
  { date: "2026-09-07", halt: "12:00", name: "Labor Day" }, // [XYZ26]
  { date: "2026-11-26", halt: "12:00", name: "Thanksgiving Day" }, // [XYZ26]
  // 2027: the [PMC] pattern, unconfirmed.
  { date: "2027-01-18", halt: "12:00", name: "Martin Luther King Jr. Day" },
  { date: "2027-02-15", halt: "12:00", name: "Presidents Day" },
  { date: "2027-05-31", halt: "12:00", name: "Memorial Day" },
  { date: "2027-06-18", halt: "12:00", name: "Juneteenth (observed; 19 June is a Saturday)" },
  { date: "2027-07-05", halt: "12:00", name: "Independence Day (observed; 4 July is a Sunday)" },
  { date: "2027-09-06", halt: "12:00", name: "Labor Day" },
  { date: "2027-11-25", halt: "12:00", name: "Thanksgiving Day" },
];

/** Trade dates whose session ends before 16:00 CT. */
export const CME_EQUITY_EARLY_CLOSES: readonly EarlyClose[] = [
  { date: "2024-07-03", close: "12:15", name: "Day before Independence Day" },
  { date: "2024-11-29", close: "12:15", name: "Day after Thanksgiving" },
  { date: "2024-12-24", close: "12:15", name: "Christmas Eve" },
  { date: "2025-01-09", close: "08:30", name: "National Day of Mourning (President Carter)" }, // [CME-DOM]
  { date: "2025-07-03", close: "12:15", name: "Day before Independence Day" },
  { date: "2025-11-28", close: "12:15", name: "Day after Thanksgiving" },
  { date: "2025-12-24", close: "12:15", name: "Christmas Eve" },
  { date: "2026-11-27", close: "12:15", name: "Day after Thanksgiving" }, // [XYZ26]
  { date: "2026-12-24", close: "12:15", name: "Christmas Eve" }, // [XYZ26]
  { date: "2027-11-26", close: "12:15", name: "Day after Thanksgiving" }, // 2027: unconfirmed
];
