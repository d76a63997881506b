export * from './autopath.js';
export * from './config.js';
export * from './feed.js';
export * from './instance.js';
export * from './lookup.js';
export * from './main.js';
export * from './metrics.js';
