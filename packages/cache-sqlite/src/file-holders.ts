/**
 * Which other processes have the cache file open — asked before a damaged file is set aside, because
 * renaming a file another process is still writing to loses its writes, and when that process closes,
 * SQLite deletes `<path>-wal` by name: the WAL of the fresh file that took its place.
 *
 * A WAL-mode SQLite connection holds a POSIX read lock on the database file (and on the dead-man-switch
 * byte of `<path>-shm`) for as long as it is open, idle or not: that is how SQLite itself knows which
 * connection is the last. On Linux, /proc/locks lists every such lock with its process and inode, so the
 * answer is exact. Elsewhere there is no portable way to ask, so the answer is "unknown".
 */
import { readFileSync, statSync } from "node:fs";

export type FileHolders =
  /** `pids`: the other processes holding a lock on the file, its WAL or its shared-memory file. */
  | { known: true; pids: number[] }
  | { known: false; why: string };

/** Other processes (not this one) that hold the database file, its -wal or its -shm open with a lock. */
export function otherProcessesHolding(file: string, locksText: () => string = () => readFileSync("/proc/locks", "utf8")): FileHolders {
  let text: string;
  try {
    text = locksText();
  } catch (error) {
    return { known: false, why: `cannot read the system's lock table (${(error as Error).message})` };
  }
  const inodes = new Set<string>();
  for (const path of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      inodes.add(String(statSync(path).ino));
    } catch {
      // absent: nobody can hold it
    }
  }
  const pids = new Set<number>();
  for (const line of text.split("\n")) {
    // "12: POSIX  ADVISORY  READ 8388 fe:00:2147184 128 128", or a waiter: "12: -> POSIX ADVISORY WRITE …"
    const match = /^\d+:\s+(?:->\s+)?\S+\s+\S+\s+\S+\s+(-?\d+)\s+[0-9a-f]+:[0-9a-f]+:(\d+)\s/i.exec(line);
    if (!match || !inodes.has(match[2]!)) continue;
    // Inodes are compared without the device: a lock on another disk's file of the same number makes the
    // answer "held", which only leaves a damaged file in place — the safe side.
    const pid = Number(match[1]);
    // Open-file-description locks show pid -1: someone holds it, we cannot say who.
    if (pid !== process.pid) pids.add(pid);
  }
  return { known: true, pids: [...pids].sort((a, b) => a - b) };
}
