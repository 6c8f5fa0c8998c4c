import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';

/**
 * Modes of what holds measurements, alert history (delivery errors) and secrets: directories
 * 700, files 600, whatever the umask. Existing installs are tightened at start, and each change
 * is reported through `note` so that the log says what was changed.
 */

/** Told of every mode this module tightened, e.g. "tightened /var/lib/smokemesh from 755 to 700". */
export type ModeNote = (message: string) => void;

/** Creates `dir` (and missing parents) as 700, or tightens an existing one to owner-only. */
export function ensurePrivateDir(dir: string, note?: ModeNote): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  tighten(dir, note);
}

/**
 * Makes a SQLite database file exist with mode 600 before SQLite opens it (SQLite gives its WAL
 * and shared-memory files the database file's mode), and tightens the -wal, -shm and -journal
 * files an older version left readable. `:memory:` is left alone.
 */
export function ensurePrivateDatabase(file: string, note?: ModeNote): void {
  if (file === ':memory:' || file === '') return;
  // 'a' creates without truncating; the mode is applied only when the file is new (umask can only remove bits).
  closeSync(openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) tighten(f, note);
}

/** Removes group and other bits from an existing path; reports it when it changed anything. */
function tighten(path: string, note?: ModeNote): void {
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch {
    return; // absent
  }
  if ((mode & 0o077) === 0) return;
  const next = mode & 0o700;
  chmodSync(path, next);
  note?.(`tightened the mode of ${path} from ${mode.toString(8)} to ${next.toString(8)} (data and secrets are owner-only)`);
}
