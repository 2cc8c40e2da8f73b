export { startViewPublishing, startViewReading, type ViewPublishing, type ViewReading } from './start-view.js';
export { mergeTransition, type PublishedTransition, type MergeOutcome } from './alert-merge.js';
export { QualityView } from './quality-view.js';
export * from './subjects.js';
export { startFleetSharing, type FleetSharing } from './start-sharing.js';
