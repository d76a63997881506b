// Public API of the kernel route manager (see README.md).
export {
  TERN_ROUTE_PROTOCOL,
  MAIN_TABLE,
  normalizeRoute,
  describeRoute,
  routeKey,
  type RouteSpec,
  type LocalRoute,
  type BlackholeRoute,
  type ViaRoute,
  type NexthopSpec,
  type NormalRoute,
  type KernelRoute,
  type RouteKey,
} from './model.js';
export {
  RouteManager,
  DEFAULT_PROGRAMMER,
  type RouteManagerOptions,
  type ApplyResult,
  type RouteConflict,
  type RouteFailure,
  type RouteManagerStats,
} from './manager.js';
export { createProgrammer, readKernelRoutes, PersistentIpBatch, SpawnIpBatch, ProgrammerModes, type ProgrammerMode, type RouteProgrammer } from './ip.js';
