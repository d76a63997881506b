// Public API of the agent's BGP side (see README.md).
export { calculatePeers, diffPeers, peerFingerprint, peerSelectsNode, nodeAddresses, nodeAs, DEFAULT_AS, GRACEFUL_RESTART_SECONDS, type DesiredPeer, type PeerInput, type PeerSet, type PeerDiff, type PeerProblem } from './peers.js';
export { calculatePaths, diffPaths, communitiesFor, servicesWithLocalEndpoints, pathFingerprint, type DesiredPath, type PathInput, type PathDiff } from './paths.js';
export { BgpdClient, type BgpdClientOptions, type BestPathUpdate, type BgpdClientStats } from './client.js';
export { fileSecretResolver } from './secrets.js';
export { RemoteRoutes, type RemoteRouteState } from './remote.js';
