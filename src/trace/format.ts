// Text output of `tern trace`: one block per path, one line per hop, like `mtr --report`.
import type { TraceResult } from './model.js';

export function formatTrace(t: TraceResult): string {
  const out: string[] = [];
  const port = t.port !== undefined ? `:${t.port}` : '';
  out.push(`trace ${t.source.ref} (${t.source.ip} on ${t.source.node}) → ${t.dest}${t.paths.length === 1 && !t.dest.endsWith(port) ? port : ''} ${t.protocol}`);
  for (const n of t.notes) out.push(`note: ${n}`);
  t.paths.forEach((p, i) => {
    out.push('');
    if (t.paths.length > 1) out.push(`path ${i + 1}/${t.paths.length}: to ${p.target}`);
    const hopW = Math.max(3, ...p.hops.map((h) => h.hop.length));
    const nodeW = Math.max(4, ...p.hops.map((h) => (h.node ?? '').length));
    out.push(`  #  ${'HOP'.padEnd(hopW)}  ${'NODE'.padEnd(nodeW)}  OK  DETAIL`);
    p.hops.forEach((h, j) => {
      out.push(`  ${String(j + 1).padStart(1)}  ${h.hop.padEnd(hopW)}  ${(h.node ?? '-').padEnd(nodeW)}  ${h.ok ? 'ok' : '!!'}  ${h.detail}`);
    });
    const v = p.verdict;
    const who = [v.policy?.length ? `policy ${v.policy.join(', ')}` : '', v.rule ? `rule ${v.rule}` : ''].filter(Boolean).join(', ');
    out.push(`  => ${v.allowed ? 'ALLOWED' : 'DENIED'}${who ? ` by ${who}` : ''}: ${v.reason}`);
    if (v.kernel) {
      const state = v.kernel.present === null ? 'not read back' : v.kernel.present ? `present${v.kernel.handle !== undefined ? ` (handle ${v.kernel.handle})` : ''}` : 'MISSING from the kernel';
      out.push(`     kernel: ${v.kernel.node} inet tern chain ${v.kernel.chain} rule "${v.kernel.comment}": ${state}`);
    }
  });
  return `${out.join('\n')}\n`;
}
