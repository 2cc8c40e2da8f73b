/**
 * Per-device `seq` accounting (no I/O, no clock). `seq` counts MESSAGES (+1 per message per device, from
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

/** What `stepSeq` returns: one object, filled again by every call. */
const step: SeqStep = { state: initialSeqState(), verdict: 'first', abandoned: 0 };

/**
 * Classify one message, moving `state` to after it in place (the state is one device's own: a
 * hand-over or a save copies it). `oldestTs` is the oldest sample time in it, `newestTsSeen` the
 * newest sample time received from the device so far (for telling a counter reset from a
 * duplicate). The step returned is valid until the next call: whenever stored writes complete out
 * of order, every other message opens or fills a gap, and a new state, gap list and step for each
 * were garbage per message.
 */
export function stepSeq(state: SeqState, seq: number, oldestTs: number, newestTsSeen: number, now: number): SeqStep {
  const highest = state.highest;
  step.state = state;
  step.abandoned = 0;
  const gaps = state.gaps;
  if (highest === null) {
    state.highest = seq;
    gaps.length = 0;
    return verdict('first');
  }
  if (seq === highest + 1) {
    state.highest = seq;
    return verdict('next');
  }
  if (seq > highest + 1) {
    if (seq - highest > MAX_SEQ_JUMP) return resetTo(state, seq);
    gaps.push({ from: highest + 1, to: seq - 1, at: now });
    while (gaps.length > MAX_GAP_RANGES) step.abandoned += countOf1(gaps.shift()!);
    state.highest = seq;
    return verdict('ahead');
  }
  let i = 0;
  while (i < gaps.length && !(seq >= gaps[i]!.from && seq <= gaps[i]!.to)) i++;
  if (i < gaps.length) {
    const g = gaps[i]!;
    if (g.from === seq && g.to === seq) gaps.splice(i, 1);
    else if (g.from === seq) g.from = seq + 1;
    else if (g.to === seq) g.to = seq - 1;
    else {
      gaps.splice(i + 1, 0, { from: seq + 1, to: g.to, at: g.at });
      g.to = seq - 1;
    }
    return verdict('gap-fill');
  }
  if (oldestTs > newestTsSeen) return resetTo(state, seq);
  return verdict('duplicate');
}

function verdict(v: SeqVerdict): SeqStep {
  step.verdict = v;
  return step;
}

function resetTo(state: SeqState, seq: number): SeqStep {
  step.abandoned = countOf(state.gaps);
  state.epoch++;
  state.highest = seq;
  state.gaps.length = 0;
  return verdict('reset');
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
  for (const g of gaps) n += countOf1(g);
  return n;
}

function countOf1(g: SeqGap): number {
  return g.to - g.from + 1;
}
