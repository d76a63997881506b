// Original file: proto/tern/bgp/v1/bgp.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AddPathRequest as _tern_bgp_v1_AddPathRequest, AddPathRequest__Output as _tern_bgp_v1_AddPathRequest__Output } from '../../../tern/bgp/v1/AddPathRequest.js';
import type { AddPathResponse as _tern_bgp_v1_AddPathResponse, AddPathResponse__Output as _tern_bgp_v1_AddPathResponse__Output } from '../../../tern/bgp/v1/AddPathResponse.js';
import type { AddPathsResponse as _tern_bgp_v1_AddPathsResponse, AddPathsResponse__Output as _tern_bgp_v1_AddPathsResponse__Output } from '../../../tern/bgp/v1/AddPathsResponse.js';
import type { AddPeerRequest as _tern_bgp_v1_AddPeerRequest, AddPeerRequest__Output as _tern_bgp_v1_AddPeerRequest__Output } from '../../../tern/bgp/v1/AddPeerRequest.js';
import type { BestPathEvent as _tern_bgp_v1_BestPathEvent, BestPathEvent__Output as _tern_bgp_v1_BestPathEvent__Output } from '../../../tern/bgp/v1/BestPathEvent.js';
import type { DaemonStatus as _tern_common_v1_DaemonStatus, DaemonStatus__Output as _tern_common_v1_DaemonStatus__Output } from '../../../tern/common/v1/DaemonStatus.js';
import type { DeletePathRequest as _tern_bgp_v1_DeletePathRequest, DeletePathRequest__Output as _tern_bgp_v1_DeletePathRequest__Output } from '../../../tern/bgp/v1/DeletePathRequest.js';
import type { DeletePathResponse as _tern_bgp_v1_DeletePathResponse, DeletePathResponse__Output as _tern_bgp_v1_DeletePathResponse__Output } from '../../../tern/bgp/v1/DeletePathResponse.js';
import type { DeletePeerRequest as _tern_bgp_v1_DeletePeerRequest, DeletePeerRequest__Output as _tern_bgp_v1_DeletePeerRequest__Output } from '../../../tern/bgp/v1/DeletePeerRequest.js';
import type { DeletePeerResponse as _tern_bgp_v1_DeletePeerResponse, DeletePeerResponse__Output as _tern_bgp_v1_DeletePeerResponse__Output } from '../../../tern/bgp/v1/DeletePeerResponse.js';
import type { GetStatsRequest as _tern_bgp_v1_GetStatsRequest, GetStatsRequest__Output as _tern_bgp_v1_GetStatsRequest__Output } from '../../../tern/bgp/v1/GetStatsRequest.js';
import type { GetStatusRequest as _tern_common_v1_GetStatusRequest, GetStatusRequest__Output as _tern_common_v1_GetStatusRequest__Output } from '../../../tern/common/v1/GetStatusRequest.js';
import type { ListPeersRequest as _tern_bgp_v1_ListPeersRequest, ListPeersRequest__Output as _tern_bgp_v1_ListPeersRequest__Output } from '../../../tern/bgp/v1/ListPeersRequest.js';
import type { ListPeersResponse as _tern_bgp_v1_ListPeersResponse, ListPeersResponse__Output as _tern_bgp_v1_ListPeersResponse__Output } from '../../../tern/bgp/v1/ListPeersResponse.js';
import type { ListRoutesRequest as _tern_bgp_v1_ListRoutesRequest, ListRoutesRequest__Output as _tern_bgp_v1_ListRoutesRequest__Output } from '../../../tern/bgp/v1/ListRoutesRequest.js';
import type { PeerEvent as _tern_bgp_v1_PeerEvent, PeerEvent__Output as _tern_bgp_v1_PeerEvent__Output } from '../../../tern/bgp/v1/PeerEvent.js';
import type { PeerResponse as _tern_bgp_v1_PeerResponse, PeerResponse__Output as _tern_bgp_v1_PeerResponse__Output } from '../../../tern/bgp/v1/PeerResponse.js';
import type { ReloadRequest as _tern_bgp_v1_ReloadRequest, ReloadRequest__Output as _tern_bgp_v1_ReloadRequest__Output } from '../../../tern/bgp/v1/ReloadRequest.js';
import type { ReloadResponse as _tern_bgp_v1_ReloadResponse, ReloadResponse__Output as _tern_bgp_v1_ReloadResponse__Output } from '../../../tern/bgp/v1/ReloadResponse.js';
import type { Route as _tern_bgp_v1_Route, Route__Output as _tern_bgp_v1_Route__Output } from '../../../tern/bgp/v1/Route.js';
import type { Stats as _tern_bgp_v1_Stats, Stats__Output as _tern_bgp_v1_Stats__Output } from '../../../tern/bgp/v1/Stats.js';
import type { UpdatePeerRequest as _tern_bgp_v1_UpdatePeerRequest, UpdatePeerRequest__Output as _tern_bgp_v1_UpdatePeerRequest__Output } from '../../../tern/bgp/v1/UpdatePeerRequest.js';
import type { WatchBestPathsRequest as _tern_bgp_v1_WatchBestPathsRequest, WatchBestPathsRequest__Output as _tern_bgp_v1_WatchBestPathsRequest__Output } from '../../../tern/bgp/v1/WatchBestPathsRequest.js';
import type { WatchPeersRequest as _tern_bgp_v1_WatchPeersRequest, WatchPeersRequest__Output as _tern_bgp_v1_WatchPeersRequest__Output } from '../../../tern/bgp/v1/WatchPeersRequest.js';

export interface BgpClient extends grpc.Client {
  AddPath(argument: _tern_bgp_v1_AddPathRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_AddPathResponse__Output>): grpc.ClientUnaryCall;
  AddPath(argument: _tern_bgp_v1_AddPathRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_bgp_v1_AddPathResponse__Output>): grpc.ClientUnaryCall;
  AddPath(argument: _tern_bgp_v1_AddPathRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_AddPathResponse__Output>): grpc.ClientUnaryCall;
  AddPath(argument: _tern_bgp_v1_AddPathRequest, callback: grpc.requestCallback<_tern_bgp_v1_AddPathResponse__Output>): grpc.ClientUnaryCall;
  addPath(argument: _tern_bgp_v1_AddPathRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_AddPathResponse__Output>): grpc.ClientUnaryCall;
  addPath(argument: _tern_bgp_v1_AddPathRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_bgp_v1_AddPathResponse__Output>): grpc.ClientUnaryCall;
  addPath(argument: _tern_bgp_v1_AddPathRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_AddPathResponse__Output>): grpc.ClientUnaryCall;
  addPath(argument: _tern_bgp_v1_AddPathRequest, callback: grpc.requestCallback<_tern_bgp_v1_AddPathResponse__Output>): grpc.ClientUnaryCall;
  
  AddPaths(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_AddPathsResponse__Output>): grpc.ClientWritableStream<_tern_bgp_v1_AddPathRequest>;
  AddPaths(metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_bgp_v1_AddPathsResponse__Output>): grpc.ClientWritableStream<_tern_bgp_v1_AddPathRequest>;
  AddPaths(options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_AddPathsResponse__Output>): grpc.ClientWritableStream<_tern_bgp_v1_AddPathRequest>;
  AddPaths(callback: grpc.requestCallback<_tern_bgp_v1_AddPathsResponse__Output>): grpc.ClientWritableStream<_tern_bgp_v1_AddPathRequest>;
  addPaths(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_AddPathsResponse__Output>): grpc.ClientWritableStream<_tern_bgp_v1_AddPathRequest>;
  addPaths(metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_bgp_v1_AddPathsResponse__Output>): grpc.ClientWritableStream<_tern_bgp_v1_AddPathRequest>;
  addPaths(options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_AddPathsResponse__Output>): grpc.ClientWritableStream<_tern_bgp_v1_AddPathRequest>;
  addPaths(callback: grpc.requestCallback<_tern_bgp_v1_AddPathsResponse__Output>): grpc.ClientWritableStream<_tern_bgp_v1_AddPathRequest>;
  
  AddPeer(argument: _tern_bgp_v1_AddPeerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_PeerResponse__Output>): grpc.ClientUnaryCall;
  AddPeer(argument: _tern_bgp_v1_AddPeerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_bgp_v1_PeerResponse__Output>): grpc.ClientUnaryCall;
  AddPeer(argument: _tern_bgp_v1_AddPeerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_PeerResponse__Output>): grpc.ClientUnaryCall;
  AddPeer(argument: _tern_bgp_v1_AddPeerRequest, callback: grpc.requestCallback<_tern_bgp_v1_PeerResponse__Output>): grpc.ClientUnaryCall;
  addPeer(argument: _tern_bgp_v1_AddPeerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_PeerResponse__Output>): grpc.ClientUnaryCall;
  addPeer(argument: _tern_bgp_v1_AddPeerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_bgp_v1_PeerResponse__Output>): grpc.ClientUnaryCall;
  addPeer(argument: _tern_bgp_v1_AddPeerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_PeerResponse__Output>): grpc.ClientUnaryCall;
  addPeer(argument: _tern_bgp_v1_AddPeerRequest, callback: grpc.requestCallback<_tern_bgp_v1_PeerResponse__Output>): grpc.ClientUnaryCall;
  
  DeletePath(argument: _tern_bgp_v1_DeletePathRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_DeletePathResponse__Output>): grpc.ClientUnaryCall;
  DeletePath(argument: _tern_bgp_v1_DeletePathRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_bgp_v1_DeletePathResponse__Output>): grpc.ClientUnaryCall;
  DeletePath(argument: _tern_bgp_v1_DeletePathRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_DeletePathResponse__Output>): grpc.ClientUnaryCall;
  DeletePath(argument: _tern_bgp_v1_DeletePathRequest, callback: grpc.requestCallback<_tern_bgp_v1_DeletePathResponse__Output>): grpc.ClientUnaryCall;
  deletePath(argument: _tern_bgp_v1_DeletePathRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_DeletePathResponse__Output>): grpc.ClientUnaryCall;
  deletePath(argument: _tern_bgp_v1_DeletePathRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_bgp_v1_DeletePathResponse__Output>): grpc.ClientUnaryCall;
  deletePath(argument: _tern_bgp_v1_DeletePathRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_DeletePathResponse__Output>): grpc.ClientUnaryCall;
  deletePath(argument: _tern_bgp_v1_DeletePathRequest, callback: grpc.requestCallback<_tern_bgp_v1_DeletePathResponse__Output>): grpc.ClientUnaryCall;
  
  DeletePeer(argument: _tern_bgp_v1_DeletePeerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_DeletePeerResponse__Output>): grpc.ClientUnaryCall;
  DeletePeer(argument: _tern_bgp_v1_DeletePeerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_bgp_v1_DeletePeerResponse__Output>): grpc.ClientUnaryCall;
  DeletePeer(argument: _tern_bgp_v1_DeletePeerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_DeletePeerResponse__Output>): grpc.ClientUnaryCall;
  DeletePeer(argument: _tern_bgp_v1_DeletePeerRequest, callback: grpc.requestCallback<_tern_bgp_v1_DeletePeerResponse__Output>): grpc.ClientUnaryCall;
  deletePeer(argument: _tern_bgp_v1_DeletePeerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_DeletePeerResponse__Output>): grpc.ClientUnaryCall;
  deletePeer(argument: _tern_bgp_v1_DeletePeerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_bgp_v1_DeletePeerResponse__Output>): grpc.ClientUnaryCall;
  deletePeer(argument: _tern_bgp_v1_DeletePeerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_DeletePeerResponse__Output>): grpc.ClientUnaryCall;
  deletePeer(argument: _tern_bgp_v1_DeletePeerRequest, callback: grpc.requestCallback<_tern_bgp_v1_DeletePeerResponse__Output>): grpc.ClientUnaryCall;
  
  GetStats(argument: _tern_bgp_v1_GetStatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_Stats__Output>): grpc.ClientUnaryCall;
  GetStats(argument: _tern_bgp_v1_GetStatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_bgp_v1_Stats__Output>): grpc.ClientUnaryCall;
  GetStats(argument: _tern_bgp_v1_GetStatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_Stats__Output>): grpc.ClientUnaryCall;
  GetStats(argument: _tern_bgp_v1_GetStatsRequest, callback: grpc.requestCallback<_tern_bgp_v1_Stats__Output>): grpc.ClientUnaryCall;
  getStats(argument: _tern_bgp_v1_GetStatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_Stats__Output>): grpc.ClientUnaryCall;
  getStats(argument: _tern_bgp_v1_GetStatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_bgp_v1_Stats__Output>): grpc.ClientUnaryCall;
  getStats(argument: _tern_bgp_v1_GetStatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_Stats__Output>): grpc.ClientUnaryCall;
  getStats(argument: _tern_bgp_v1_GetStatsRequest, callback: grpc.requestCallback<_tern_bgp_v1_Stats__Output>): grpc.ClientUnaryCall;
  
  GetStatus(argument: _tern_common_v1_GetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_common_v1_DaemonStatus__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _tern_common_v1_GetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_common_v1_DaemonStatus__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _tern_common_v1_GetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_common_v1_DaemonStatus__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _tern_common_v1_GetStatusRequest, callback: grpc.requestCallback<_tern_common_v1_DaemonStatus__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _tern_common_v1_GetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_common_v1_DaemonStatus__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _tern_common_v1_GetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_common_v1_DaemonStatus__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _tern_common_v1_GetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_common_v1_DaemonStatus__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _tern_common_v1_GetStatusRequest, callback: grpc.requestCallback<_tern_common_v1_DaemonStatus__Output>): grpc.ClientUnaryCall;
  
  ListPeers(argument: _tern_bgp_v1_ListPeersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  ListPeers(argument: _tern_bgp_v1_ListPeersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_bgp_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  ListPeers(argument: _tern_bgp_v1_ListPeersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  ListPeers(argument: _tern_bgp_v1_ListPeersRequest, callback: grpc.requestCallback<_tern_bgp_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  listPeers(argument: _tern_bgp_v1_ListPeersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  listPeers(argument: _tern_bgp_v1_ListPeersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_bgp_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  listPeers(argument: _tern_bgp_v1_ListPeersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  listPeers(argument: _tern_bgp_v1_ListPeersRequest, callback: grpc.requestCallback<_tern_bgp_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  
  ListRoutes(argument: _tern_bgp_v1_ListRoutesRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_tern_bgp_v1_Route__Output>;
  ListRoutes(argument: _tern_bgp_v1_ListRoutesRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_tern_bgp_v1_Route__Output>;
  listRoutes(argument: _tern_bgp_v1_ListRoutesRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_tern_bgp_v1_Route__Output>;
  listRoutes(argument: _tern_bgp_v1_ListRoutesRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_tern_bgp_v1_Route__Output>;
  
  Reload(argument: _tern_bgp_v1_ReloadRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_ReloadResponse__Output>): grpc.ClientUnaryCall;
  Reload(argument: _tern_bgp_v1_ReloadRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_bgp_v1_ReloadResponse__Output>): grpc.ClientUnaryCall;
  Reload(argument: _tern_bgp_v1_ReloadRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_ReloadResponse__Output>): grpc.ClientUnaryCall;
  Reload(argument: _tern_bgp_v1_ReloadRequest, callback: grpc.requestCallback<_tern_bgp_v1_ReloadResponse__Output>): grpc.ClientUnaryCall;
  reload(argument: _tern_bgp_v1_ReloadRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_ReloadResponse__Output>): grpc.ClientUnaryCall;
  reload(argument: _tern_bgp_v1_ReloadRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_bgp_v1_ReloadResponse__Output>): grpc.ClientUnaryCall;
  reload(argument: _tern_bgp_v1_ReloadRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_ReloadResponse__Output>): grpc.ClientUnaryCall;
  reload(argument: _tern_bgp_v1_ReloadRequest, callback: grpc.requestCallback<_tern_bgp_v1_ReloadResponse__Output>): grpc.ClientUnaryCall;
  
  UpdatePeer(argument: _tern_bgp_v1_UpdatePeerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_PeerResponse__Output>): grpc.ClientUnaryCall;
  UpdatePeer(argument: _tern_bgp_v1_UpdatePeerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_bgp_v1_PeerResponse__Output>): grpc.ClientUnaryCall;
  UpdatePeer(argument: _tern_bgp_v1_UpdatePeerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_PeerResponse__Output>): grpc.ClientUnaryCall;
  UpdatePeer(argument: _tern_bgp_v1_UpdatePeerRequest, callback: grpc.requestCallback<_tern_bgp_v1_PeerResponse__Output>): grpc.ClientUnaryCall;
  updatePeer(argument: _tern_bgp_v1_UpdatePeerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_PeerResponse__Output>): grpc.ClientUnaryCall;
  updatePeer(argument: _tern_bgp_v1_UpdatePeerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tern_bgp_v1_PeerResponse__Output>): grpc.ClientUnaryCall;
  updatePeer(argument: _tern_bgp_v1_UpdatePeerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tern_bgp_v1_PeerResponse__Output>): grpc.ClientUnaryCall;
  updatePeer(argument: _tern_bgp_v1_UpdatePeerRequest, callback: grpc.requestCallback<_tern_bgp_v1_PeerResponse__Output>): grpc.ClientUnaryCall;
  
  WatchBestPaths(argument: _tern_bgp_v1_WatchBestPathsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_tern_bgp_v1_BestPathEvent__Output>;
  WatchBestPaths(argument: _tern_bgp_v1_WatchBestPathsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_tern_bgp_v1_BestPathEvent__Output>;
  watchBestPaths(argument: _tern_bgp_v1_WatchBestPathsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_tern_bgp_v1_BestPathEvent__Output>;
  watchBestPaths(argument: _tern_bgp_v1_WatchBestPathsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_tern_bgp_v1_BestPathEvent__Output>;
  
  WatchPeers(argument: _tern_bgp_v1_WatchPeersRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_tern_bgp_v1_PeerEvent__Output>;
  WatchPeers(argument: _tern_bgp_v1_WatchPeersRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_tern_bgp_v1_PeerEvent__Output>;
  watchPeers(argument: _tern_bgp_v1_WatchPeersRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_tern_bgp_v1_PeerEvent__Output>;
  watchPeers(argument: _tern_bgp_v1_WatchPeersRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_tern_bgp_v1_PeerEvent__Output>;
  
}

export interface BgpHandlers extends grpc.UntypedServiceImplementation {
  AddPath: grpc.handleUnaryCall<_tern_bgp_v1_AddPathRequest__Output, _tern_bgp_v1_AddPathResponse>;
  
  AddPaths: grpc.handleClientStreamingCall<_tern_bgp_v1_AddPathRequest__Output, _tern_bgp_v1_AddPathsResponse>;
  
  AddPeer: grpc.handleUnaryCall<_tern_bgp_v1_AddPeerRequest__Output, _tern_bgp_v1_PeerResponse>;
  
  DeletePath: grpc.handleUnaryCall<_tern_bgp_v1_DeletePathRequest__Output, _tern_bgp_v1_DeletePathResponse>;
  
  DeletePeer: grpc.handleUnaryCall<_tern_bgp_v1_DeletePeerRequest__Output, _tern_bgp_v1_DeletePeerResponse>;
  
  GetStats: grpc.handleUnaryCall<_tern_bgp_v1_GetStatsRequest__Output, _tern_bgp_v1_Stats>;
  
  GetStatus: grpc.handleUnaryCall<_tern_common_v1_GetStatusRequest__Output, _tern_common_v1_DaemonStatus>;
  
  ListPeers: grpc.handleUnaryCall<_tern_bgp_v1_ListPeersRequest__Output, _tern_bgp_v1_ListPeersResponse>;
  
  ListRoutes: grpc.handleServerStreamingCall<_tern_bgp_v1_ListRoutesRequest__Output, _tern_bgp_v1_Route>;
  
  Reload: grpc.handleUnaryCall<_tern_bgp_v1_ReloadRequest__Output, _tern_bgp_v1_ReloadResponse>;
  
  UpdatePeer: grpc.handleUnaryCall<_tern_bgp_v1_UpdatePeerRequest__Output, _tern_bgp_v1_PeerResponse>;
  
  WatchBestPaths: grpc.handleServerStreamingCall<_tern_bgp_v1_WatchBestPathsRequest__Output, _tern_bgp_v1_BestPathEvent>;
  
  WatchPeers: grpc.handleServerStreamingCall<_tern_bgp_v1_WatchPeersRequest__Output, _tern_bgp_v1_PeerEvent>;
  
}

export interface BgpDefinition extends grpc.ServiceDefinition {
  AddPath: MethodDefinition<_tern_bgp_v1_AddPathRequest, _tern_bgp_v1_AddPathResponse, _tern_bgp_v1_AddPathRequest__Output, _tern_bgp_v1_AddPathResponse__Output>
  AddPaths: MethodDefinition<_tern_bgp_v1_AddPathRequest, _tern_bgp_v1_AddPathsResponse, _tern_bgp_v1_AddPathRequest__Output, _tern_bgp_v1_AddPathsResponse__Output>
  AddPeer: MethodDefinition<_tern_bgp_v1_AddPeerRequest, _tern_bgp_v1_PeerResponse, _tern_bgp_v1_AddPeerRequest__Output, _tern_bgp_v1_PeerResponse__Output>
  DeletePath: MethodDefinition<_tern_bgp_v1_DeletePathRequest, _tern_bgp_v1_DeletePathResponse, _tern_bgp_v1_DeletePathRequest__Output, _tern_bgp_v1_DeletePathResponse__Output>
  DeletePeer: MethodDefinition<_tern_bgp_v1_DeletePeerRequest, _tern_bgp_v1_DeletePeerResponse, _tern_bgp_v1_DeletePeerRequest__Output, _tern_bgp_v1_DeletePeerResponse__Output>
  GetStats: MethodDefinition<_tern_bgp_v1_GetStatsRequest, _tern_bgp_v1_Stats, _tern_bgp_v1_GetStatsRequest__Output, _tern_bgp_v1_Stats__Output>
  GetStatus: MethodDefinition<_tern_common_v1_GetStatusRequest, _tern_common_v1_DaemonStatus, _tern_common_v1_GetStatusRequest__Output, _tern_common_v1_DaemonStatus__Output>
  ListPeers: MethodDefinition<_tern_bgp_v1_ListPeersRequest, _tern_bgp_v1_ListPeersResponse, _tern_bgp_v1_ListPeersRequest__Output, _tern_bgp_v1_ListPeersResponse__Output>
  ListRoutes: MethodDefinition<_tern_bgp_v1_ListRoutesRequest, _tern_bgp_v1_Route, _tern_bgp_v1_ListRoutesRequest__Output, _tern_bgp_v1_Route__Output>
  Reload: MethodDefinition<_tern_bgp_v1_ReloadRequest, _tern_bgp_v1_ReloadResponse, _tern_bgp_v1_ReloadRequest__Output, _tern_bgp_v1_ReloadResponse__Output>
  UpdatePeer: MethodDefinition<_tern_bgp_v1_UpdatePeerRequest, _tern_bgp_v1_PeerResponse, _tern_bgp_v1_UpdatePeerRequest__Output, _tern_bgp_v1_PeerResponse__Output>
  WatchBestPaths: MethodDefinition<_tern_bgp_v1_WatchBestPathsRequest, _tern_bgp_v1_BestPathEvent, _tern_bgp_v1_WatchBestPathsRequest__Output, _tern_bgp_v1_BestPathEvent__Output>
  WatchPeers: MethodDefinition<_tern_bgp_v1_WatchPeersRequest, _tern_bgp_v1_PeerEvent, _tern_bgp_v1_WatchPeersRequest__Output, _tern_bgp_v1_PeerEvent__Output>
}
