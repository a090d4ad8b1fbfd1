/** pg ships no types; this package types only the slice it uses (./connection.ts), kysely's pattern. */
declare module "pg" {
  const pg: import("./connection.js").PgModule;
  export default pg;
}
