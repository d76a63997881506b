import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import { EtcdServer } from '../../src/lab/etcd.js';

describe('EtcdServer (real etcd)', () => {
  const server = new EtcdServer();
  let client: Etcd3;
  beforeAll(async () => {
    await server.start();
    client = new Etcd3({ hosts: server.endpoint });
  });
  afterAll(async () => {
    client?.close();
    await server.destroy();
  });

  it('serves reads and writes on a loopback port', async () => {
    expect(server.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await client.put('/t/a').value('1');
    expect(await client.get('/t/a').string()).toBe('1');
  });

  it('keeps data across a kill and restart on the same ports', async () => {
    await client.put('/t/b').value('2');
    const pid = server.pid;
    await server.stop();
    expect(server.running).toBe(false);
    await server.start();
    expect(server.pid).not.toBe(pid);
    expect(await client.get('/t/b').string()).toBe('2');
  });
});
