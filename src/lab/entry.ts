import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Whether the module at `moduleUrl` (its import.meta.url) is the script node was started with.
 * The module's own file name is compared too: inside a bundled daemon every module shares the
 * bundle's import.meta.url, and a lab script bundled into `tern` must not start its main.
 */
export function isEntryPoint(moduleUrl: string, fileName: string): boolean {
  const invoked = process.argv[1] ? realpathSync(process.argv[1]) : '';
  const self = fileURLToPath(moduleUrl);
  return invoked === self && (self.endsWith(`/${fileName}.js`) || self.endsWith(`/${fileName}.ts`));
}
