/** RulEstimate lives in runtime/model/maintenance.ts with the other derived records. */
export type { RulEstimate } from '../model/maintenance.js';
