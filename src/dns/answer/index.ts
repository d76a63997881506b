export * from './engine.js';
export * from './resolver.js';
