// tern-dnsd's engine: wire codec, index, answer logic, UDP/TCP server.
export * from './wire/index.js';
export * from './index/index.js';
export * from './answer/index.js';
export * from './server/index.js';
