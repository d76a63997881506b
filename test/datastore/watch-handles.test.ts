// stop() plus closing the client leaves nothing behind: no socket, no timer (a test process
// that leaked either would not exit). Its own file and etcd, so no other test's client counts.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import { pino } from 'pino';
import { EtcdServer } from '../../src/lab/etcd.js';
import { PrefixWatcher } from '../../src/datastore/watch.js';
import { TcpProxy } from './tcp-proxy.js';
import { waitFor } from './watch-helpers.js';

const server = new EtcdServer();
beforeAll(() => server.start());
afterAll(() => server.destroy());

const leaks = (): string[] => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap' || r === 'Timeout');

it('leaves no open socket or timer after stop() and close()', async () => {
  const quiet = pino({ level: 'silent' });
  const direct = new Etcd3({ hosts: server.endpoint });
  const proxy = new TcpProxy(server.host, server.clientPort);
  await proxy.start();
  const cutOff = new Etcd3({ hosts: proxy.endpoint });
  try {
    const watching = new PrefixWatcher(direct, '/handles/', { logger: quiet });
    await watching.start();
    await direct.put('/handles/a').value('1');
    await waitFor(() => watching.get('/handles/a') !== undefined, 'the put');
    // A second watcher is mid-outage: its retry timer is pending when it is stopped.
    const retrying = new PrefixWatcher(cutOff, '/handles/', { logger: quiet, retryDelayMs: 1000 });
    await retrying.start();
    proxy.cut();
    await waitFor(() => retrying.state === 'disconnected', 'disconnected');
    await Promise.all([watching.stop(), retrying.stop()]);
    expect(watching.state).toBe('stopped');
  } finally {
    direct.close();
    cutOff.close();
    await proxy.close();
  }
  await waitFor(() => leaks().length === 0, `no handles left (${leaks().join(', ')})`, 5000);
  expect(leaks()).toEqual([]);
});
