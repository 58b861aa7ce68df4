import { createLogger, type LogFormat, type LogLevel, type Logger } from '../core/log/create-logger.ts';

export interface LoggingConfig {
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
}

/**
 * Runs a long-lived component until SIGTERM/SIGINT. A start-up failure is logged with its code and
 * exits 1; a signal stops it cleanly (exit 0).
 */
export async function runUntilSignalled(
  component: string,
  logging: LoggingConfig,
  run: (deps: { log: Logger; signal: AbortSignal }) => Promise<void>,
): Promise<void> {
  const log = createLogger({ level: logging.logLevel, format: logging.logFormat, base: { component } });
  const controller = new AbortController();
  const stop = (sig: NodeJS.Signals): void => {
    log.info({ signal: sig }, 'stopping');
    controller.abort(new Error(`received ${sig}`));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    await run({ log, signal: controller.signal });
  } catch (err) {
    if (controller.signal.aborted) return;
    const e = err as { code?: string; message?: string };
    log.fatal({ code: e.code ?? 'E_INTERNAL', err: e.message ?? String(err) }, `${component} failed`);
    process.stderr.write(`spotguard ${component}: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}\n`);
    process.exitCode = 1;
  }
}
