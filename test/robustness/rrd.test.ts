// tern-rrd (the same engine in reflector role) under the same bad input, at a smaller scale.
import { bgpRobustnessSuite } from './bgp-suite.js';

bgpRobustnessSuite('tern-rrd', { churn: 1000, http: 100, openSent: 200, updates: 300, grpc: 200 });
