// Prometheus metrics of a speaker. Nothing is counted in the UPDATE path: every value is read
// at scrape time from the counters sessions and the RIB keep anyway (prom-client `collect`).
import { Counter, Gauge, type Registry } from 'prom-client';
import { SessionState } from '../session/fsm.js';
import type { Speaker } from './speaker.js';

export function registerSpeakerMetrics(registry: Registry, speaker: Speaker): void {
  const registers = [registry];
  new Gauge({
    name: 'tern_bgp_peers',
    help: 'BGP peers by session state',
    labelNames: ['state'],
    registers,
    collect() {
      this.reset();
      for (const s of Object.values(SessionState)) this.set({ state: s }, 0);
      for (const e of speaker.listPeers()) this.inc({ state: e.session.state });
    },
  });
  const perPeer = (name: string, help: string, value: (e: ReturnType<Speaker['listPeers']>[number]) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['peer'],
      registers,
      collect() {
        this.reset();
        for (const e of speaker.listPeers()) this.set({ peer: e.address }, value(e));
      },
    });
  };
  perPeer('tern_bgp_peer_prefixes_received', 'NLRI announced by the peer in the current session', (e) => e.received);
  perPeer('tern_bgp_peer_prefixes_accepted', 'paths of the peer in Adj-RIB-In after import policy', (e) => speaker.peerCounts(e).accepted);
  perPeer('tern_bgp_peer_prefixes_advertised', 'prefixes in the Adj-RIB-Out of the peer', (e) => speaker.rib.advertised(e.session.id));
  perPeer('tern_bgp_peer_up', '1 while the session is Established', (e) => (e.session.state === 'Established' ? 1 : 0));
  perPeer('tern_bgp_peer_flaps', 'times the session left Established', (e) => e.session.counters.flaps);

  const messages = (dir: 'in' | 'out'): void => {
    new Counter({
      name: dir === 'in' ? 'tern_bgp_messages_received_total' : 'tern_bgp_messages_sent_total',
      help: `BGP messages ${dir === 'in' ? 'received from' : 'sent to'} the peer, by type`,
      labelNames: ['peer', 'type'],
      registers,
      collect() {
        this.reset();
        for (const e of speaker.listPeers()) {
          const c = dir === 'in' ? e.session.counters.messagesIn : e.session.counters.messagesOut;
          for (const [type, n] of Object.entries(c)) if (n > 0) this.inc({ peer: e.address, type }, n);
        }
      },
    });
  };
  messages('in');
  messages('out');
  new Counter({
    name: 'tern_bgp_best_path_changes_total',
    help: 'prefixes whose best path changed',
    registers,
    collect() {
      this.reset();
      this.inc(speaker.rib.bestChanges);
    },
  });
  new Gauge({
    name: 'tern_bgp_loc_rib_prefixes',
    help: 'prefixes in the Loc-RIB by family',
    labelNames: ['family'],
    registers,
    collect() {
      const s = speaker.rib.stats();
      this.set({ family: 'ipv4' }, s.ipv4Prefixes);
      this.set({ family: 'ipv6' }, s.ipv6Prefixes);
    },
  });
  new Gauge({
    name: 'tern_bfd_sessions',
    help: 'BFD sessions of BGP peers by state',
    labelNames: ['state'],
    registers,
    collect() {
      this.reset();
      for (const [state, n] of Object.entries(speaker.bfd.counts())) this.set({ state }, n);
    },
  });
  new Gauge({
    name: 'tern_bgp_attribute_sets',
    help: 'interned path-attribute sets',
    registers,
    collect() {
      this.set(speaker.rib.stats().attributeSets);
    },
  });
}
