export * from './acl.js';
export * from './cache.js';
export * from './forwarder.js';
export * from './resolv.js';
