// State estimation (ARCHITECTURE.md, layers): the public surface for flows, other analytics and tools.
export * from './config.js';
export * from './kalman.js';
export * from './kalman1d.js';
export type { StateModel, ScalarParams } from './model.js';
export * from './local-level.js';
export * from './local-trend.js';
export * from './first-order.js';
export * from './fusion.js';
export * from './hybrid.js';
export * from './adaptive-noise.js';
export * from './nis.js';
export * from './step.js';
