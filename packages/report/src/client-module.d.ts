/** The browser side, bundled at build time (see build/client.mjs). */
declare module "virtual:nq-report-client" {
  export const js: string;
  export const css: string;
}
