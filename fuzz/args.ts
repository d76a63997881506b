// Command-line options the fuzz scripts share.

/** `--name N` as a non-negative number, or the fallback; a bad value exits 2 with a message. */
export function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) {
    console.error(`--${name} needs a non-negative number`);
    process.exit(2);
  }
  return v;
}

/** `--seed S`, or one from the clock; printed by each script so a failing run can be replayed. */
export const seedArg = (): number => numberArg('seed', Date.now() % 0x7fffffff) >>> 0 || 1;
