// Regenerates samples/nq-sample.chain.json from the deterministic generator (run after `pnpm build`).
// The test "the shipped sample is exactly what the generator makes" fails until this is re-run after a
// generator change, so the shipped file can never drift from the code that claims to make it.
import { writeFileSync } from "node:fs";
import { generateSampleChain } from "../dist/index.js";

const target = new URL("../samples/nq-sample.chain.json", import.meta.url);
const chain = generateSampleChain();
writeFileSync(target, `${JSON.stringify(chain, null, 2)}\n`);
console.log(`wrote ${chain.contracts.length} contracts (${chain.optionsSummary.expirations.length} expirations) to ${target.pathname}`);
