import { pino, type DestinationStream, type Logger } from 'pino';

export type LogFormat = 'json' | 'pretty';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export type { Logger };

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Where lines go; defaults to stderr. Tests pass a stream and parse the JSON lines. */
  destination?: DestinationStream;
  /** Fields on every line, e.g. {component: 'agent', node}. */
  base?: Record<string, unknown>;
}

/** The one root logger; made in main and passed down (`log.child({module})`). */
export function createLogger(options: LoggerOptions): Logger {
  const settings = {
    level: options.level,
    base: options.base ?? {},
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (options.destination !== undefined) return pino(settings, options.destination);
  if (options.format === 'pretty') {
    return pino({
      ...settings,
      transport: { target: 'pino-pretty', options: { destination: 2, colorize: process.stderr.isTTY, translateTime: 'SYS:HH:MM:ss.l' } },
    });
  }
  return pino(settings, pino.destination({ dest: 2, sync: true }));
}
