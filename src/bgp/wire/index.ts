// Public API of the BGP wire codec: bytes in, values out, and back. No sockets, timers or RIB.
export * from './constants.js';
export * from './context.js';
export * from './errors.js';
export * from './prefix.js';
export * from './attributes.js';
export * from './capabilities.js';
export * from './open.js';
export * from './update.js';
export * from './simple.js';
export * from './message.js';
export * from './reader.js';
export * from './builder.js';
export { checkHeader } from './header.js';
