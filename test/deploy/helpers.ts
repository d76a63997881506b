// Shared by the deploy checks: the repository's paths, package.json's bins, and running a
// compiled daemon's --check-config.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = process.cwd();

export function packageBins(): Record<string, string> {
  return (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin;
}

/** Binaries the manifests use that package.json "bin" does not list yet (see the report). */
export const PENDING_BINS = new Set<string>();

export function daemonScript(bin: string): string {
  return join(ROOT, 'dist', 'daemons', `${bin}.js`);
}

/**
 * Runs `node dist/daemons/<bin>.js --config <file> --check-config` with exactly `env` (plus
 * PATH) and returns the exit code and the printed configuration.
 */
export function checkConfig(bin: string, configText: string, env: Record<string, string>): { status: number | null; config: Record<string, unknown> | undefined; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tern-deploy-'));
  try {
    const file = join(dir, `${bin}.yaml`);
    writeFileSync(file, configText);
    const script = daemonScript(bin);
    if (!existsSync(script)) throw new Error(`${script} is missing: build first (npx tsc -p tsconfig.json)`);
    const r = spawnSync(process.execPath, [script, '--config', file, '--check-config'], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 20_000 });
    let config: Record<string, unknown> | undefined;
    try {
      config = JSON.parse(r.stdout) as Record<string, unknown>;
    } catch {
      config = undefined;
    }
    return { status: r.status, config, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
