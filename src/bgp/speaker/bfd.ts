// BFD for the speaker's BGP sessions (RFC 5882 §4.3, "BFD for BGP"): one BfdManager per speaker,
// one BFD session per BGP peer whose configuration asks for it. This file only keeps the BFD
// peer table in step with the speaker's peers and reports failures; what a failure does to the
// BGP session is the session's business (BgpSession.bfdDown).
//
// The manager's sockets are opened on the first peer that wants BFD, not at speaker start: a
// speaker without BFD peers never binds port 3784 (two speakers on one host would collide).
import type { Clock } from '../../clock/index.js';
import { BfdManager, addressKey, type BfdPeerInfo } from '../../bfd/manager.js';
import { BfdState, stateName } from '../../bfd/packet.js';
import type { BfdTransition } from '../../bfd/session.js';
import type { Logger } from '../../log/index.js';
import type { BfdSettings } from './config.js';

export interface SpeakerBfdOptions {
  /** The BGP listener's addresses; `::` means both families, as for the BGP listener. */
  bind: readonly string[];
  /** Default 3784 (RFC 5881 §4); 0 lets the kernel pick (tests). */
  port?: number;
  /** The neighbours' BFD port; default 3784. */
  peerPort?: number;
  clock?: Clock;
  log: Logger;
  /**
   * A session went Down after having been Up and the neighbour did not say AdminDown: the
   * forwarding path failed (RFC 5882 §3.2 keeps AdminDown from counting as a failure).
   */
  onDown: (address: string, t: BfdTransition) => void;
  /** Any state change, for logs and events. */
  onState?: (address: string, t: BfdTransition) => void;
}

/** One BGP peer's wish: its BFD settings and the source address to send from. */
interface Want {
  address: string;
  settings: BfdSettings;
  local: string | undefined;
}

/** The BFD states counted by `tern_bfd_sessions{state}`. */
export const BFD_STATE_NAMES = ['AdminDown', 'Down', 'Init', 'Up'] as const;

/** Maps the BGP listener's addresses to BFD receive sockets (the IPv6 one is IPv6-only). */
export function bfdBindOf(addresses: readonly string[]): string[] {
  const out = new Set<string>();
  for (const a of addresses) {
    if (a === '::') {
      out.add('0.0.0.0');
      out.add('::');
    } else out.add(a);
  }
  return [...out];
}

export class SpeakerBfd {
  private manager: BfdManager | null = null;
  private starting: Promise<void> | null = null;
  private failed: string | null = null;
  /** By the manager's address key. */
  private readonly wants = new Map<string, Want>();
  private stopped = false;

  constructor(private readonly o: SpeakerBfdOptions) {}

  /** Starts, changes or (settings null) stops the BFD session of a BGP peer. */
  set(address: string, settings: BfdSettings | null, local?: string): void {
    const key = addressKey(address);
    if (key === undefined || this.stopped) return;
    const prev = this.wants.get(key);
    if (settings === null) {
      if (prev === undefined) return;
      this.wants.delete(key);
      this.manager?.removePeer(key);
      return;
    }
    const next: Want = { address, settings, local };
    this.wants.set(key, next);
    if (this.manager === null) {
      this.ensureStarted();
      return;
    }
    const s = this.manager.get(key);
    if (s !== undefined && prev !== undefined && prev.local === local) {
      // Timers change in place (a Poll Sequence when Up, RFC 5880 §6.8.3); the session survives.
      s.setConfig({ desiredMinTxMs: settings.minTxMs, requiredMinRxMs: settings.minRxMs, detectMult: settings.multiplier });
      return;
    }
    if (s !== undefined) this.manager.removePeer(key, { graceful: false });
    this.add(next);
  }

  /** The state of a peer's BFD session: 'Up', 'Down', 'Init', 'AdminDown'; '' when it has none. */
  state(address: string): string {
    const key = addressKey(address);
    if (key === undefined || !this.wants.has(key)) return '';
    const s = this.manager?.get(key);
    if (s === undefined) return this.failed !== null ? 'Error' : 'Down';
    return s.stateName;
  }

  /** Sessions by state (every name present, zeros included). */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const n of BFD_STATE_NAMES) out[n] = 0;
    for (const key of this.wants.keys()) {
      const st = this.state(key);
      if (st in out) out[st]!++;
    }
    return out;
  }

  list(): BfdPeerInfo[] {
    return this.manager?.list() ?? [];
  }

  /** The receive port, once the sockets are open. */
  get port(): number | undefined {
    try {
      return this.manager?.port;
    } catch {
      return undefined;
    }
  }

  /** Waits until the sockets are open (or failed); resolves at once when BFD is unused. */
  async ready(): Promise<void> {
    await this.starting;
  }

  /**
   * Stops every session. `graceful`: each goes AdminDown first, so neighbours do not take our
   * going away for a forwarding failure (RFC 5882 §3.2) and leave their BGP session to BGP.
   */
  async stop(o: { graceful?: boolean } = {}): Promise<void> {
    this.stopped = true;
    await this.starting?.catch(() => {});
    await this.manager?.stop({ graceful: o.graceful ?? true });
    this.manager = null;
  }

  private ensureStarted(): void {
    if (this.starting !== null) return;
    const m = new BfdManager({
      bind: bfdBindOf(this.o.bind),
      port: this.o.port ?? 3784,
      ...(this.o.clock ? { clock: this.o.clock } : {}),
      log: this.o.log,
    });
    m.on('down', (t) => {
      if (t.remoteState === stateName(BfdState.AdminDown)) return;
      const w = this.wants.get(t.peer);
      if (w !== undefined) this.o.onDown(w.address, t);
    });
    m.on('state', (t) => {
      const w = this.wants.get(t.peer);
      if (w !== undefined) this.o.onState?.(w.address, t);
    });
    this.starting = m.start().then(
      () => {
        if (this.stopped) {
          void m.stop({ graceful: false });
          return;
        }
        this.manager = m;
        for (const w of this.wants.values()) this.add(w);
      },
      (e: Error) => {
        // BGP goes on without BFD; `tern bgp peers` shows the BFD state as Error.
        this.failed = e.message;
        this.o.log.error({ err: e.message }, 'BFD unavailable');
      },
    );
  }

  private add(w: Want): void {
    try {
      this.manager!.addPeer({
        peer: w.address,
        ...(w.local !== undefined ? { local: w.local } : {}),
        ...(this.o.peerPort !== undefined ? { port: this.o.peerPort } : {}),
        minTxMs: w.settings.minTxMs,
        minRxMs: w.settings.minRxMs,
        multiplier: w.settings.multiplier,
      });
    } catch (e) {
      this.o.log.error({ peer: w.address, err: (e as Error).message }, 'cannot start BFD session');
    }
  }
}
