// One pino root logger per process, one child per component ({"component":"ipam"}).
// JSON by default; level from --log-level or TERN_LOG_LEVEL.
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function isLogLevel(s: string): s is LevelWithSilent {
  return (LEVELS as readonly string[]).includes(s);
}

let root: Logger | undefined;

/** Creates (or replaces) the process's root logger. Daemons call this once at start. */
export function initLogger(opts: { name: string; level?: string; destination?: NodeJS.WritableStream }): Logger {
  const level = opts.level ?? process.env.TERN_LOG_LEVEL ?? 'info';
  if (!isLogLevel(level)) throw new Error(`invalid log level "${level}": one of ${LEVELS.join(', ')}`);
  root = opts.destination
    ? pino({ name: opts.name, level }, opts.destination as pino.DestinationStream)
    : pino({ name: opts.name, level });
  return root;
}

/** A child logger for one component; uses a quiet default root when none was initialised. */
export function logger(component: string): Logger {
  if (!root) root = pino({ name: 'tern', level: process.env.TERN_LOG_LEVEL ?? 'warn' });
  return root.child({ component });
}
