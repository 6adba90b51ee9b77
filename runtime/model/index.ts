export * from './quality.js';
export * from './errors.js';
export * from './reading.js';
