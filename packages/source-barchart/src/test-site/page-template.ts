/**
 * The local site's series page, built on the structure of Barchart's real futures-options page: the
 * options toolbar (series-type and expiry dropdowns with page paths, moneyness/view/time selects), the
 * "N Days to expiration on MM/DD/YY" and "Price Value of Option point" row, the quotes container with
 * its `data-api-config` (the request) and `data-options` (the underlying price), and a script that, like
 * the real page's, requests the chain with the XSRF cookie and fills the tables.
 */
import type { SiteSeries } from "./series-calendar.js";

export const QUOTE_FIELDS =
  "strike,openPrice,highPrice,lowPrice,lastPrice,priceChange,bidPrice,askPrice,volume,openInterest,premium,tradeTime,longSymbol,optionType,symbol";

export interface PageInputs {
  series: SiteSeries;
  /** Every series of the site, for the dropdowns. */
  all: SiteSeries[];
  underlyingPrice: number;
  daysToExpiration: number;
  productName: string;
}

export function seriesPath(series: SiteSeries): string {
  return series.kind === "monthly" ? `/futures/quotes/${series.future}/options` : `/futures/quotes/${series.future}/options/${series.code}`;
}

export function renderSeriesPage({ series, all, underlyingPrice, daysToExpiration, productName }: PageInputs): string {
  const kinds = [...new Set(all.map((s) => s.kind))];
  const typeOptions = kinds
    .map((kind) => {
      const ofKind = all.filter((s) => s.kind === kind);
      const target = kind === series.kind ? series : ofKind[0]!;
      return option(seriesPath(target), ofKind[0]!.typeLabel, kind === series.kind);
    })
    .join("  ");
  const expiryOptions = all
    .filter((s) => s.kind === series.kind)
    .map((s) => option(seriesPath(s), s.label, s.code === series.code))
    .join("  ");
  const apiConfig = {
    api: {
      method: "quotes",
      symbol: series.code,
      list: "futures.options",
      fields: QUOTE_FIELDS,
      meta: "field.shortName,field.description,field.type",
      groupBy: "optionType",
      orderBy: "strike",
      orderDir: "asc",
    },
  };
  const dataOptions = {
    quickLinks: true,
    emptyText: "There is no option data for this symbol and month, or the options for the selected month have already expired.",
    groupNameKeys: { Call: "Calls", Put: "Puts" },
    itm: { compareWith: "strike", lastPrice: underlyingPrice, dailyLastPrice: underlyingPrice },
    futureOptions: true,
    noPagination: true,
  };
  const [mm, dd, yy] = [series.expiration.slice(5, 7), series.expiration.slice(8, 10), series.expiration.slice(2, 4)];
  const title = `${productName} ${series.future} Futures Options Prices - Barchart.com`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8"><title>${escapeHtml(title)}</title><link rel="canonical" href="${escapeHtml(seriesPath(series))}"></head><body>
<div class="bc-datatable-toolbar bc-options-toolbar" data-ng-controller="futureOptionToolbarCtrl">
 <div class="bc-options-toolbar__dropdown-month">
  <label for="bc-options-toolbar__dropdown-month">Options Type:</label>
  <div class="bc-dropdown styled options-type"> <select aria-label="Options Type" id="bc-options-toolbar__dropdown-type" data-barchart-nav-dropdown="">  ${typeOptions}  </select> </div>
  <div class="bc-dropdown styled options-month"> <select id="bc-options-toolbar__dropdown-month" data-barchart-nav-dropdown="">  ${expiryOptions}  </select> </div>
  <div class="bc-dropdown styled in-the-money"> <select aria-label="Set Filter" name="moneyness" data-change-filter=""> <option value="5">5 Strikes +/-</option> <option value="10" selected="selected">Near the Money</option> <option value="20">20 Strikes +/-</option> <option value="50">50 Strikes +/-</option> <option value="allRows">Show All</option> </select> </div>
  <div class="bc-dropdown styled bc-options-toolbar__dropdown-view"> <select aria-label="Select View" name="futuresOptionsView" data-change-filter=""> <option value="merged">Stacked</option> <option value="split">Side-by-Side</option> </select> </div>
  <div class="bc-dropdown styled bc-options-toolbar__options-time"> <select aria-label="Set Filter" name="futuresOptionsTime" data-change-filter=""> <option value="intraday">Intraday</option> <option disabled="" value="daily">Daily</option> </select> </div>
  <div class="buttons right"> <a class="toolbar-button download" data-bc-download-button="${escapeHtml(`${series.future} options ${series.typeLabel} exp-${mm}/${dd}/${yy}`)}"><span>download</span></a> </div>
 </div>
</div>
<div class="bc-datatable-toolbar bc-options-toolbar"> <div class="row bc-options-toolbar__second-row">
 <div class="column small-12 medium-4"> <div> <strong>${daysToExpiration} Days</strong> to expiration on <strong>${mm}/${dd}/${yy}</strong> </div> </div>
 <div class="column small-12 medium-4 text-medium-up-right"> <div> Price Value of Option point: <strong>$20</strong> </div> </div>
</div> </div>
<div class="bc-futures-options-quotes" data-ng-controller="FuturesOptionsQuotes.futuresOptionsQuotesCtrl">
 <div class="bc-futures-options-quotes__merged">
  <div class="bc-datatable-middleware-wrapper" data-api-config="${escapeHtml(JSON.stringify(apiConfig))}" data-options="${escapeHtml(JSON.stringify(dataOptions))}" data-watch-for="${escapeHtml(JSON.stringify(["futuresOptionsTime", "moneyness"]))}">
   <div class="barchart-content-block"><div class="block-title joined"><h4><span>Calls</span></h4></div><table class="bc-table" data-group="Call"><tbody></tbody></table></div>
   <div class="barchart-content-block"><div class="block-title joined"><h4><span>Puts</span></h4></div><table class="bc-table" data-group="Put"><tbody></tbody></table></div>
  </div>
 </div>
</div>
<div class="bc-futures-options-quotes-totals"> <div class="bc-futures-options-quotes-totals__data-row"> Put Premium Total <strong class="right" data-total="putPremium">-</strong> </div> <div class="bc-futures-options-quotes-totals__data-row"> Call Premium Total <strong class="right" data-total="callPremium">-</strong> </div> </div>
<script>
(function () {
  // As on Barchart: the page asks its own endpoint for the chain, with the XSRF cookie as a header.
  var holder = document.querySelector("[data-api-config]");
  var api = JSON.parse(holder.getAttribute("data-api-config")).api;
  var params = new URLSearchParams();
  Object.keys(api).forEach(function (key) { if (key !== "method") params.set(key, api[key]); });
  params.set("raw", "1");
  var match = document.cookie.match(/(?:^|; )XSRF-TOKEN=([^;]*)/);
  var headers = { Accept: "application/json" };
  if (match) headers["X-XSRF-TOKEN"] = decodeURIComponent(match[1]);
  fetch("/proxies/core-api/v1/" + api.method + "/get?" + params.toString(), { credentials: "same-origin", headers: headers })
    .then(function (r) { return r.json(); })
    .then(function (json) {
      ["Call", "Put"].forEach(function (group) {
        var body = document.querySelector('table[data-group="' + group + '"] tbody');
        (json.data[group] || []).forEach(function (row) {
          var tr = document.createElement("tr");
          [row.strike, row.lastPrice, row.bidPrice, row.askPrice, row.volume, row.openInterest].forEach(function (v) {
            var td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
          });
          body.appendChild(tr);
        });
      });
    })
    .catch(function () {});
})();
</script>
</body></html>
`;
}

export function renderBlockPage(): string {
  return `<!DOCTYPE html>
<html lang="en-US"><head><title>Attention Required! | Cloudflare</title></head><body>
<div id="cf-wrapper"><div id="cf-error-details"><h1>Sorry, you have been blocked</h1>
<h2>You are unable to access barchart.com</h2>
<p>This website is using a security service to protect itself from online attacks.</p>
<p>Cloudflare Ray ID: <strong>8f00000000000000</strong></p></div></div>
</body></html>
`;
}

/** A bot-challenge page; with `clearsWithCookie`, its script "passes" by setting that cookie and reloading. */
export function renderChallengePage(options: { clearsWithCookie?: string } = {}): string {
  const clears = options.clearsWithCookie
    ? `<script>setTimeout(function () { document.cookie = "${options.clearsWithCookie}=" + Date.now() + "; path=/"; location.reload(); }, 300);</script>`
    : "";
  return `<!DOCTYPE html>
<html lang="en-US"><head><title>Just a moment...</title></head><body>
<div class="main-wrapper"><h1>www.barchart.com</h1><p>Checking your browser before accessing www.barchart.com.</p>
<div id="challenge-stage"></div><script src="/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1"></script>${clears}</div>
</body></html>
`;
}

function option(value: string, label: string, selected: boolean): string {
  return `<option${selected ? ' selected="selected"' : ""} value="${escapeHtml(value)}">${escapeHtml(label)}</option>`;
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}
