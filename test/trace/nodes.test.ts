// Node access: a lab state file (hosts, recorded cluster nodes, socket conventions), a nodes
// file, and NODE=VALUE flags, later sources overriding earlier ones.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newState } from '../../src/lab/state.js';
import { accessFromFile, accessFromLab, applyFlags, combine } from '../../src/trace/index.js';

const base = mkdtempSync(join(tmpdir(), 'tern-trace-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('node access', () => {
  it('reads netns and speakers from a lab state, sockets by convention or as recorded', () => {
    const dir = join(base, 'x1');
    mkdirSync(dir, { recursive: true });
    const st = newState('x1', false);
    const host = (name: string, ip: string) => ({ name, netns: `tnx1-${name}`, fabricIp: ip, fabricCidr: `${ip}/24`, iface: 'eth0', fabricPeer: `v-${name}` });
    st.hosts = [host('node1', '10.99.0.21'), host('node2', '10.99.0.22'), host('rr1', '10.99.0.11')];
    st.meta.cluster = { nodes: [{ name: 'node2', fabricIp: '10.99.0.22', netns: 'tnx1-node2', agentSocket: '/elsewhere/n2.sock', bgpdSocket: '/elsewhere/b2.sock' }] };
    writeFileSync(join(dir, 'state.json'), JSON.stringify(st));
    writeFileSync(join(dir, 'node1-agent.sock'), '');
    const m = accessFromLab('x1', base);
    expect(m.nodes.get('node1')).toEqual({ netns: 'tnx1-node1', agentSocket: join(dir, 'node1-agent.sock') });
    expect(m.nodes.get('node2')).toEqual({ netns: 'tnx1-node2', agentSocket: '/elsewhere/n2.sock', bgpdSocket: '/elsewhere/b2.sock' });
    expect(m.speakers['10.99.0.11']).toBe('rr1');
    applyFlags(m, 'bgpdSocket', ['node1=/x/b1.sock']);
    expect(m.nodes.get('node1')!.bgpdSocket).toBe('/x/b1.sock');
    expect(() => applyFlags(m, 'netns', ['node1'])).toThrow(/NODE=VALUE/);
  });

  it('a nodes file, combined with flags', () => {
    const f = join(base, 'nodes.yaml');
    writeFileSync(f, 'nodes:\n  n1: { agentSocket: /a.sock, netns: ns-a }\nspeakers:\n  10.0.0.1: tor\n');
    const m = combine(accessFromFile(f));
    applyFlags(m, 'netns', ['n1=ns-b']);
    expect(m.nodes.get('n1')).toEqual({ agentSocket: '/a.sock', netns: 'ns-b' });
    expect(m.speakers).toEqual({ '10.0.0.1': 'tor' });
    writeFileSync(f, 'nodes:\n  n1: { agentsocket: /a.sock }\n');
    expect(() => accessFromFile(f)).toThrow(/agentsocket|Unrecognized/);
  });
});
