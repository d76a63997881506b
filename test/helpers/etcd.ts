// One real etcd per test file: started before the file's tests, killed and removed after.
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll } from 'vitest';
import { Keys } from '../../src/datastore/keys.js';
import { EtcdServer } from '../../src/lab/etcd.js';

export interface EtcdFixture {
  readonly server: EtcdServer;
  /** A client connected to the server; valid inside tests and hooks. */
  readonly client: Etcd3;
  /** A fresh key prefix, so tests sharing one etcd never see each other's keys. */
  freshKeys(): Keys;
}

let seq = 0;

export function useEtcd(): EtcdFixture {
  const server = new EtcdServer();
  let client: Etcd3 | undefined;
  beforeAll(async () => {
    await server.start();
    client = new Etcd3({ hosts: server.endpoint });
  });
  afterAll(async () => {
    client?.close();
    await server.destroy();
  });
  return {
    server,
    get client() {
      if (!client) throw new Error('etcd fixture used outside a test');
      return client;
    },
    freshKeys: () => new Keys(`/t${process.pid}-${++seq}/`),
  };
}
