// The BGP speaker: Rib + SessionManager wired together, its configuration, gRPC service and metrics.
export * from './config.js';
export { Speaker, resolveRouterId, type PeerEntry, type PeerEvent, type PeerSource, type ReloadResult, type SpeakerOptions, type SpeakerStats, type PathInput } from './speaker.js';
export { bgpHandlers, peerState, pathOf, specFromProto, specToProto } from './grpc.js';
export { registerSpeakerMetrics } from './metrics.js';
export { bgpDaemonSchema, runBgpDaemon, startSpeakerDaemon, type BgpDaemonSpec } from './daemon.js';
