// The daemons as `npm run build` leaves them: one bundled file each (scripts/bundle.mjs), started
// with the node flags their first line names. Needs a built dist/ (`npm run build`).
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { daemonArgs, nodeFlags } from '../../src/lab/cluster.js';

const root = process.cwd();
const daemons = readdirSync(join(root, 'daemons'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3));
const built = (d: string) => join(root, 'dist/daemons', `${d}.js`);

describe('bundled daemons', () => {
  it.each(daemons)('%s is one file that imports no project module', (d) => {
    const src = readFileSync(built(d), 'utf8');
    // tsc's output imports ../src/...; a bundle has no relative imports left.
    expect(src).not.toMatch(/from\s*["']\.\.?\//);
    expect(src).not.toMatch(/import\(\s*["']\.\.?\//);
    if (d === 'tern-cni') {
      // A CNI plugin speaks the CNI protocol, not flags.
      const r = spawnSync(process.execPath, [built(d)], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, CNI_COMMAND: 'VERSION' }, input: '' });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).supportedVersions).toContain('1.1.0');
      return;
    }
    const r = spawnSync(process.execPath, [built(d), '--help'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Usage: ${d}`);
  });

  it('`tern` runs its own command line, not the lab script bundled into it', () => {
    const r = spawnSync(process.execPath, [built('tern'), 'bgp', '--help'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Usage: tern bgp');
    expect(r.stdout + r.stderr).not.toContain('npm start');
  });

  it('node flags come from the entry file\'s first line, and the daemon starts with them', () => {
    expect(nodeFlags(join(root, 'daemons/tern-rrd.ts'))).toEqual(nodeFlags(built('tern-rrd')));
    const flags = nodeFlags(built('tern-rrd'));
    expect(flags.length).toBeGreaterThan(0);
    expect(daemonArgs('tern-rrd')).toEqual([...flags, built('tern-rrd')]);
    // The flags are valid for this node: the daemon runs with them, and also when run directly.
    const viaNode = spawnSync(process.execPath, [...daemonArgs('tern-rrd'), '--help'], { encoding: 'utf8', timeout: 20_000 });
    expect(viaNode.status, viaNode.stderr).toBe(0);
    const direct = spawnSync(built('tern-rrd'), ['--help'], { encoding: 'utf8', timeout: 20_000 });
    expect(direct.status, direct.stderr).toBe(0);
    expect(direct.stdout).toContain('Usage: tern-rrd');
  });
});
