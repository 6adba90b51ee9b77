export * from './quality.js';
export * from './errors.js';
export * from './reading.js';
export * from './estimate.js';
export * from './drift.js';
export * from './control.js';
export * from './maintenance.js';
export * from './energy.js';
