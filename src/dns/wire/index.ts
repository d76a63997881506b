export * from './constants.js';
export * from './name.js';
export * from './query.js';
export * from './rr.js';
export * from './response.js';
export * from './decode.js';
