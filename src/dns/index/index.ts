export * from './dns-index.js';
export * from './strip.js';
