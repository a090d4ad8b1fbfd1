/** The shared history store suite from @nq/core/testing (the one @nq/store-postgres runs), on the `history` plugin's file. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChainHistory } from "@nq/core";
import { describeChainHistoryConformance } from "@nq/core/testing";
import { openSqliteHistory, type OpenSqliteHistoryOptions } from "./index.js";

describeChainHistoryConformance("SQLite (the history plugin, outputs/history.db)", {
  open: async () => {
    const dir = mkdtempSync(join(tmpdir(), "nq-history-conformance-"));
    const handles: ChainHistory[] = [];
    const openHandle = async (extra: Partial<OpenSqliteHistoryOptions> = {}) => {
      const history = await openSqliteHistory({ baseDir: dir, ...extra });
      handles.push(history);
      return history;
    };
    return {
      history: await openHandle(),
      openAnother: () => openHandle(),
      openFailingBeforeCommit: () =>
        openHandle({
          beforeCommit: () => {
            throw new Error("test: failing after the rows were written, before COMMIT");
          },
        }),
      cleanup: async () => {
        for (const history of handles) await history.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});
