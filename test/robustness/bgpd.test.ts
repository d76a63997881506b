// tern-bgpd under bad input on its BGP port, gRPC socket and ops endpoint (bgp-suite.ts).
import { bgpRobustnessSuite } from './bgp-suite.js';

bgpRobustnessSuite('tern-bgpd', { churn: 3000, http: 300, openSent: 400, updates: 600, grpc: 400 });
