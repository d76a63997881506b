// The configuration files shipped in deploy/config are valid for their daemons.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('deploy/config', () => {
  it.each(['tern-bgpd', 'tern-rrd', 'tern-agentd', 'tern-dnsd'])('%s.yaml passes --check-config', (daemon) => {
    const r = spawnSync(process.execPath, [join('dist/daemons', `${daemon}.js`), '--config', `deploy/config/${daemon}.yaml`, '--check-config'], {
      encoding: 'utf8',
      timeout: 20_000,
      env: { ...process.env, TERN_NODE_NAME: 'node1' },
    });
    expect(r.status, r.stderr).toBe(0);
    const cfg = JSON.parse(r.stdout) as { grpc: { socket: string }; nodeName: string };
    expect(cfg.grpc.socket).toMatch(/^\/run\/tern\/.+\.sock$/);
    expect(cfg.nodeName).toBe('node1');
  });
});
