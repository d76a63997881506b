// BGP passwords from Kubernetes-style secret volumes: BGPPeer.spec.password.secretKeyRef
// {name, key} is read from `<secretDir>/<name>/<key>` (the layout of a Secret mounted as a
// volume, one directory per secret, one file per key). The value is used as is, without a
// trailing newline. Read on every calculation, so a rotated secret takes effect at the next
// resync or BGPPeer change; a missing file leaves the peer unconfigured (reported).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const SAFE = /^[A-Za-z0-9._-]+$/;

export function fileSecretResolver(secretDir: string | undefined): (name: string, key: string) => string | undefined {
  return (name, key) => {
    // A name like "../x" must not escape the directory.
    if (!secretDir || !SAFE.test(name) || !SAFE.test(key) || name.startsWith('..') || key.startsWith('..')) return undefined;
    try {
      return readFileSync(join(secretDir, name, key), 'utf8').replace(/\r?\n$/, '');
    } catch {
      return undefined;
    }
  };
}
