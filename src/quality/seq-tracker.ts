/**
 * Per-device `seq` accounting (pure). `seq` counts MESSAGES (+1 per message per device, from
 * the gateway's point of view), so it says which messages are missing, repeated or late, but not
 * how many samples they carried: sample-level figures come from timestamps (device-tracker.ts).
 *
 * Everything at or below the highest seq seen that is not in an open gap has been received, so
 * the state is just the highest seq and the open gaps: no set of every seq ever seen.
 *
 * Verdicts for one message:
 * - `first`: the first message of the device (or of a new epoch, see `reset`);
 * - `next`: highest + 1;
 * - `ahead`: beyond highest + 1: the seqs in between become an open gap (missing, for now);
 * - `gap-fill`: inside an open gap: a message that was missing arrived after all. Late, not
 *   missing (store-and-forward replay, a resend, reordering), and out of order;
 * - `duplicate`: at or below highest, not in a gap: delivered before (MQTT QoS 1 redelivery, a
 *   gateway resending); its samples count as duplicates;
 * - `reset`: at or below highest but every sample newer than anything received, or a jump too
 *   large to be lost messages: the gateway restarted its counter. A new epoch begins; gaps of the
 *   old one can no longer be told apart from new numbers, so they are abandoned (still missing).
 */
export interface SeqGap {
  from: number;
  to: number;
  /** When (arrival time) the gap was found, to give up on it after the late horizon. */
  at: number;
}

export interface SeqState {
  epoch: number;
  highest: number | null;
  /** Sorted, disjoint. */
  gaps: SeqGap[];
}

export type SeqVerdict = 'first' | 'next' | 'ahead' | 'gap-fill' | 'duplicate' | 'reset';

/** More open gap ranges than this: the oldest are abandoned (bounded memory for a broken gateway). */
export const MAX_GAP_RANGES = 1000;
/** A forward jump larger than this is a counter reset, not that many lost messages. */
export const MAX_SEQ_JUMP = 1_000_000;

export function initialSeqState(): SeqState {
  return { epoch: 0, highest: null, gaps: [] };
}

export interface SeqStep {
  state: SeqState;
  verdict: SeqVerdict;
  /** Seq numbers given up on by this step (abandoned gaps: reset or too many ranges). */
  abandoned: number;
}

/**
 * Classify one message. `oldestTs` is the oldest sample time in it, `newestTsSeen` the newest
 * sample time received from the device so far (for telling a counter reset from a duplicate).
 */
export function stepSeq(state: SeqState, seq: number, oldestTs: number, newestTsSeen: number, now: number): SeqStep {
  const { highest } = state;
  if (highest === null) return { state: { ...state, highest: seq, gaps: [] }, verdict: 'first', abandoned: 0 };
  if (seq === highest + 1) return { state: { ...state, highest: seq }, verdict: 'next', abandoned: 0 };
  if (seq > highest + 1) {
    if (seq - highest > MAX_SEQ_JUMP) return resetTo(state, seq);
    const gaps = [...state.gaps, { from: highest + 1, to: seq - 1, at: now }];
    const dropped = gaps.length > MAX_GAP_RANGES ? gaps.splice(0, gaps.length - MAX_GAP_RANGES) : [];
    return { state: { ...state, highest: seq, gaps }, verdict: 'ahead', abandoned: countOf(dropped) };
  }
  const i = state.gaps.findIndex((g) => seq >= g.from && seq <= g.to);
  if (i >= 0) {
    const g = state.gaps[i]!;
    const parts: SeqGap[] = [];
    if (g.from < seq) parts.push({ from: g.from, to: seq - 1, at: g.at });
    if (seq < g.to) parts.push({ from: seq + 1, to: g.to, at: g.at });
    const gaps = [...state.gaps.slice(0, i), ...parts, ...state.gaps.slice(i + 1)];
    return { state: { ...state, gaps }, verdict: 'gap-fill', abandoned: 0 };
  }
  if (oldestTs > newestTsSeen) return resetTo(state, seq);
  return { state, verdict: 'duplicate', abandoned: 0 };
}

function resetTo(state: SeqState, seq: number): SeqStep {
  return { state: { epoch: state.epoch + 1, highest: seq, gaps: [] }, verdict: 'reset', abandoned: countOf(state.gaps) };
}

/** Give up on gaps found before `cutoff` (their samples could no longer be accounted anyway). */
export function pruneGaps(state: SeqState, cutoff: number): { state: SeqState; abandoned: number } {
  const kept = state.gaps.filter((g) => g.at >= cutoff);
  if (kept.length === state.gaps.length) return { state, abandoned: 0 };
  return { state: { ...state, gaps: kept }, abandoned: countOf(state.gaps) - countOf(kept) };
}

/** Messages currently missing (seq numbers in open gaps). */
export function missingMessages(state: SeqState): number {
  return countOf(state.gaps);
}

function countOf(gaps: readonly SeqGap[]): number {
  let n = 0;
  for (const g of gaps) n += g.to - g.from + 1;
  return n;
}
