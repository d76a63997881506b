export { addonPath, loadSockopt } from './addon.js';
export type { ConnectSocketOptions, ListenSocketOptions, Md5Key, SocketInfo, SockoptAddon, SockoptError, SocketOptions } from './addon.js';
export { acceptedSettings, connectSettings, GTSM_TTL, listenerSettings, minTtlFor } from './security.js';
export type { ConnectSettings, ListenerSettings, PeerSecurity } from './security.js';
export { SockoptTransport, type SockoptTransportOptions } from './transport.js';
