/** The browser side, bundled at build time (see build/client.mjs). */
declare module "virtual:nq-report-client" {
  export const js: string;
  export const css: string;
  /** The compare page's script. */
  export const compareJs: string;
}
