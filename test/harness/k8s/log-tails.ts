// Tails of the component logs, printed when a test or a start-up fails.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The last `lines` lines of a file ('' when it does not exist). Reads at most the last 256 KiB. */
export function tailFile(path: string, lines = 40): string {
  if (!existsSync(path)) return '';
  const text = readFileSync(path, 'utf8');
  const recent = text.length > 256 * 1024 ? text.slice(-256 * 1024) : text;
  return recent.trimEnd().split('\n').slice(-lines).join('\n');
}

/** One block per `<logsDir>/*.log`: a header naming the component, then its tail. */
export function logTails(logsDir: string, lines = 40): string {
  if (!existsSync(logsDir)) return `(no logs in ${logsDir})`;
  return readdirSync(logsDir)
    .filter((name) => name.endsWith('.log'))
    .sort()
    .map((name) => {
      const path = join(logsDir, name);
      return `----- ${name} (${statSync(path).size} bytes, last ${lines} lines) -----\n${tailFile(path, lines)}`;
    })
    .join('\n');
}
