/** @nq/store-postgres — the cache and the chain history on PostgreSQL (in progress: the test server comes first). */
export {};
