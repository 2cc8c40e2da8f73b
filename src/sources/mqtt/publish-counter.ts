/**
 * Counts QoS 1 and 2 PUBLISH packets in the bytes a broker sends, as they arrive.
 *
 * Why: MQTT.js handles packets one at a time, later than they arrive (and not at all while our
 * window holds it). To tell whether the broker honoured our receive-maximum we need to know how
 * many messages it had sent at a moment, against how many PUBACKs we had sent by then. Only the
 * fixed header is read (type, flags, remaining length); bodies are skipped, so this costs a few
 * operations per packet, and packets may be split across chunks anywhere.
 */
export class PublishCounter {
  /** Body bytes of the current packet still to skip. */
  private skip = 0;
  /** The current packet's first byte, once read (-1: none yet). */
  private first = -1;
  /** Remaining length decoded so far, and the multiplier of its next byte. */
  private length = 0;
  private multiplier = 1;

  /** QoS 1/2 PUBLISH packets whose fixed header ends in `chunk`. */
  count(chunk: Uint8Array): number {
    let found = 0;
    let i = 0;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, chunk.length - i);
        this.skip -= take;
        i += take;
        continue;
      }
      const byte = chunk[i++]!;
      if (this.first < 0) {
        this.first = byte;
        continue;
      }
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      if (byte & 0x80) continue; // the remaining length goes on
      if (this.first >> 4 === 3 && (this.first >> 1) & 3) found++;
      this.skip = this.length;
      this.first = -1;
      this.length = 0;
      this.multiplier = 1;
    }
    return found;
  }
}
