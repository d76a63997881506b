import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AddPathRequest as _tern_bgp_v1_AddPathRequest, AddPathRequest__Output as _tern_bgp_v1_AddPathRequest__Output } from './tern/bgp/v1/AddPathRequest.js';
import type { AddPathResponse as _tern_bgp_v1_AddPathResponse, AddPathResponse__Output as _tern_bgp_v1_AddPathResponse__Output } from './tern/bgp/v1/AddPathResponse.js';
import type { AddPathsResponse as _tern_bgp_v1_AddPathsResponse, AddPathsResponse__Output as _tern_bgp_v1_AddPathsResponse__Output } from './tern/bgp/v1/AddPathsResponse.js';
import type { AddPeerRequest as _tern_bgp_v1_AddPeerRequest, AddPeerRequest__Output as _tern_bgp_v1_AddPeerRequest__Output } from './tern/bgp/v1/AddPeerRequest.js';
import type { AsPathSegment as _tern_bgp_v1_AsPathSegment, AsPathSegment__Output as _tern_bgp_v1_AsPathSegment__Output } from './tern/bgp/v1/AsPathSegment.js';
import type { BestPathEvent as _tern_bgp_v1_BestPathEvent, BestPathEvent__Output as _tern_bgp_v1_BestPathEvent__Output } from './tern/bgp/v1/BestPathEvent.js';
import type { Bfd as _tern_bgp_v1_Bfd, Bfd__Output as _tern_bgp_v1_Bfd__Output } from './tern/bgp/v1/Bfd.js';
import type { BgpClient as _tern_bgp_v1_BgpClient, BgpDefinition as _tern_bgp_v1_BgpDefinition } from './tern/bgp/v1/Bgp.js';
import type { DeletePathRequest as _tern_bgp_v1_DeletePathRequest, DeletePathRequest__Output as _tern_bgp_v1_DeletePathRequest__Output } from './tern/bgp/v1/DeletePathRequest.js';
import type { DeletePathResponse as _tern_bgp_v1_DeletePathResponse, DeletePathResponse__Output as _tern_bgp_v1_DeletePathResponse__Output } from './tern/bgp/v1/DeletePathResponse.js';
import type { DeletePeerRequest as _tern_bgp_v1_DeletePeerRequest, DeletePeerRequest__Output as _tern_bgp_v1_DeletePeerRequest__Output } from './tern/bgp/v1/DeletePeerRequest.js';
import type { DeletePeerResponse as _tern_bgp_v1_DeletePeerResponse, DeletePeerResponse__Output as _tern_bgp_v1_DeletePeerResponse__Output } from './tern/bgp/v1/DeletePeerResponse.js';
import type { GetStatsRequest as _tern_bgp_v1_GetStatsRequest, GetStatsRequest__Output as _tern_bgp_v1_GetStatsRequest__Output } from './tern/bgp/v1/GetStatsRequest.js';
import type { GracefulRestart as _tern_bgp_v1_GracefulRestart, GracefulRestart__Output as _tern_bgp_v1_GracefulRestart__Output } from './tern/bgp/v1/GracefulRestart.js';
import type { ListPeersRequest as _tern_bgp_v1_ListPeersRequest, ListPeersRequest__Output as _tern_bgp_v1_ListPeersRequest__Output } from './tern/bgp/v1/ListPeersRequest.js';
import type { ListPeersResponse as _tern_bgp_v1_ListPeersResponse, ListPeersResponse__Output as _tern_bgp_v1_ListPeersResponse__Output } from './tern/bgp/v1/ListPeersResponse.js';
import type { ListRoutesRequest as _tern_bgp_v1_ListRoutesRequest, ListRoutesRequest__Output as _tern_bgp_v1_ListRoutesRequest__Output } from './tern/bgp/v1/ListRoutesRequest.js';
import type { Path as _tern_bgp_v1_Path, Path__Output as _tern_bgp_v1_Path__Output } from './tern/bgp/v1/Path.js';
import type { PeerConfig as _tern_bgp_v1_PeerConfig, PeerConfig__Output as _tern_bgp_v1_PeerConfig__Output } from './tern/bgp/v1/PeerConfig.js';
import type { PeerEvent as _tern_bgp_v1_PeerEvent, PeerEvent__Output as _tern_bgp_v1_PeerEvent__Output } from './tern/bgp/v1/PeerEvent.js';
import type { PeerResponse as _tern_bgp_v1_PeerResponse, PeerResponse__Output as _tern_bgp_v1_PeerResponse__Output } from './tern/bgp/v1/PeerResponse.js';
import type { PeerState as _tern_bgp_v1_PeerState, PeerState__Output as _tern_bgp_v1_PeerState__Output } from './tern/bgp/v1/PeerState.js';
import type { ReloadRequest as _tern_bgp_v1_ReloadRequest, ReloadRequest__Output as _tern_bgp_v1_ReloadRequest__Output } from './tern/bgp/v1/ReloadRequest.js';
import type { ReloadResponse as _tern_bgp_v1_ReloadResponse, ReloadResponse__Output as _tern_bgp_v1_ReloadResponse__Output } from './tern/bgp/v1/ReloadResponse.js';
import type { Route as _tern_bgp_v1_Route, Route__Output as _tern_bgp_v1_Route__Output } from './tern/bgp/v1/Route.js';
import type { Stats as _tern_bgp_v1_Stats, Stats__Output as _tern_bgp_v1_Stats__Output } from './tern/bgp/v1/Stats.js';
import type { UpdatePeerRequest as _tern_bgp_v1_UpdatePeerRequest, UpdatePeerRequest__Output as _tern_bgp_v1_UpdatePeerRequest__Output } from './tern/bgp/v1/UpdatePeerRequest.js';
import type { WatchBestPathsRequest as _tern_bgp_v1_WatchBestPathsRequest, WatchBestPathsRequest__Output as _tern_bgp_v1_WatchBestPathsRequest__Output } from './tern/bgp/v1/WatchBestPathsRequest.js';
import type { WatchPeersRequest as _tern_bgp_v1_WatchPeersRequest, WatchPeersRequest__Output as _tern_bgp_v1_WatchPeersRequest__Output } from './tern/bgp/v1/WatchPeersRequest.js';
import type { DaemonStatus as _tern_common_v1_DaemonStatus, DaemonStatus__Output as _tern_common_v1_DaemonStatus__Output } from './tern/common/v1/DaemonStatus.js';
import type { GetStatusRequest as _tern_common_v1_GetStatusRequest, GetStatusRequest__Output as _tern_common_v1_GetStatusRequest__Output } from './tern/common/v1/GetStatusRequest.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  tern: {
    bgp: {
      v1: {
        AddPathRequest: MessageTypeDefinition<_tern_bgp_v1_AddPathRequest, _tern_bgp_v1_AddPathRequest__Output>
        AddPathResponse: MessageTypeDefinition<_tern_bgp_v1_AddPathResponse, _tern_bgp_v1_AddPathResponse__Output>
        AddPathsResponse: MessageTypeDefinition<_tern_bgp_v1_AddPathsResponse, _tern_bgp_v1_AddPathsResponse__Output>
        AddPeerRequest: MessageTypeDefinition<_tern_bgp_v1_AddPeerRequest, _tern_bgp_v1_AddPeerRequest__Output>
        AsPathSegment: MessageTypeDefinition<_tern_bgp_v1_AsPathSegment, _tern_bgp_v1_AsPathSegment__Output>
        BestPathEvent: MessageTypeDefinition<_tern_bgp_v1_BestPathEvent, _tern_bgp_v1_BestPathEvent__Output>
        Bfd: MessageTypeDefinition<_tern_bgp_v1_Bfd, _tern_bgp_v1_Bfd__Output>
        Bgp: SubtypeConstructor<typeof grpc.Client, _tern_bgp_v1_BgpClient> & { service: _tern_bgp_v1_BgpDefinition }
        DeletePathRequest: MessageTypeDefinition<_tern_bgp_v1_DeletePathRequest, _tern_bgp_v1_DeletePathRequest__Output>
        DeletePathResponse: MessageTypeDefinition<_tern_bgp_v1_DeletePathResponse, _tern_bgp_v1_DeletePathResponse__Output>
        DeletePeerRequest: MessageTypeDefinition<_tern_bgp_v1_DeletePeerRequest, _tern_bgp_v1_DeletePeerRequest__Output>
        DeletePeerResponse: MessageTypeDefinition<_tern_bgp_v1_DeletePeerResponse, _tern_bgp_v1_DeletePeerResponse__Output>
        Family: EnumTypeDefinition
        GetStatsRequest: MessageTypeDefinition<_tern_bgp_v1_GetStatsRequest, _tern_bgp_v1_GetStatsRequest__Output>
        GracefulRestart: MessageTypeDefinition<_tern_bgp_v1_GracefulRestart, _tern_bgp_v1_GracefulRestart__Output>
        ListPeersRequest: MessageTypeDefinition<_tern_bgp_v1_ListPeersRequest, _tern_bgp_v1_ListPeersRequest__Output>
        ListPeersResponse: MessageTypeDefinition<_tern_bgp_v1_ListPeersResponse, _tern_bgp_v1_ListPeersResponse__Output>
        ListRoutesRequest: MessageTypeDefinition<_tern_bgp_v1_ListRoutesRequest, _tern_bgp_v1_ListRoutesRequest__Output>
        Path: MessageTypeDefinition<_tern_bgp_v1_Path, _tern_bgp_v1_Path__Output>
        PeerConfig: MessageTypeDefinition<_tern_bgp_v1_PeerConfig, _tern_bgp_v1_PeerConfig__Output>
        PeerEvent: MessageTypeDefinition<_tern_bgp_v1_PeerEvent, _tern_bgp_v1_PeerEvent__Output>
        PeerResponse: MessageTypeDefinition<_tern_bgp_v1_PeerResponse, _tern_bgp_v1_PeerResponse__Output>
        PeerState: MessageTypeDefinition<_tern_bgp_v1_PeerState, _tern_bgp_v1_PeerState__Output>
        ReloadRequest: MessageTypeDefinition<_tern_bgp_v1_ReloadRequest, _tern_bgp_v1_ReloadRequest__Output>
        ReloadResponse: MessageTypeDefinition<_tern_bgp_v1_ReloadResponse, _tern_bgp_v1_ReloadResponse__Output>
        Route: MessageTypeDefinition<_tern_bgp_v1_Route, _tern_bgp_v1_Route__Output>
        Stats: MessageTypeDefinition<_tern_bgp_v1_Stats, _tern_bgp_v1_Stats__Output>
        UpdatePeerRequest: MessageTypeDefinition<_tern_bgp_v1_UpdatePeerRequest, _tern_bgp_v1_UpdatePeerRequest__Output>
        WatchBestPathsRequest: MessageTypeDefinition<_tern_bgp_v1_WatchBestPathsRequest, _tern_bgp_v1_WatchBestPathsRequest__Output>
        WatchPeersRequest: MessageTypeDefinition<_tern_bgp_v1_WatchPeersRequest, _tern_bgp_v1_WatchPeersRequest__Output>
      }
    }
    common: {
      v1: {
        DaemonStatus: MessageTypeDefinition<_tern_common_v1_DaemonStatus, _tern_common_v1_DaemonStatus__Output>
        GetStatusRequest: MessageTypeDefinition<_tern_common_v1_GetStatusRequest, _tern_common_v1_GetStatusRequest__Output>
      }
    }
  }
}

