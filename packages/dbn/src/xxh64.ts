/**
 * XXH64 with seed 0, streaming: the hash whose low 32 bits a zstd frame carries as its content
 * checksum (RFC 8878 §3.1.1). libzstd checks it itself; fzstd does not, so the fzstd path of
 * `ZstdStreamDecoder` checks it with this.
 *
 * JavaScript has no 64-bit integer arithmetic short of BigInt (far too slow per 8 bytes), so every
 * 64-bit value is a pair of unsigned 32-bit halves and the products are formed from 16-bit limbs,
 * exact in doubles. The results of the two helpers land in `rh`/`rl` to avoid allocating a pair.
 */

// The five primes of XXH64, as [high, low] halves.
const P1H = 0x9e3779b1, P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d, P2L = 0x27d4eb4f;
const P3H = 0x165667b1, P3L = 0x9e3779f9;
const P4H = 0x85ebca77, P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f, P5L = 0x165667c5;
// The low halves of P1 and P2 in 16-bit limbs, for the hot loop.
const P1L0 = P1L & 0xffff, P1L1 = P1L >>> 16;
const P2L0 = P2L & 0xffff, P2L1 = P2L >>> 16;

let rh = 0;
let rl = 0;

/** (ah:al) × (bh:bl) mod 2^64 → rh:rl. */
function mul(ah: number, al: number, bh: number, bl: number): void {
  const a0 = al & 0xffff, a1 = al >>> 16, b0 = bl & 0xffff, b1 = bl >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const carry = a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  rl = (((mid & 0xffff) << 16) | (p00 & 0xffff)) >>> 0;
  rh = (carry + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
}

/** XXH64's round: acc = rotl(acc + input × P2, 31) × P1 → rh:rl. */
function round(acch: number, accl: number, inh: number, inl: number): void {
  mul(inh, inl, P2H, P2L);
  const lo = accl + rl;
  const l = lo >>> 0;
  const h = (acch + rh + (lo > 0xffffffff ? 1 : 0)) >>> 0;
  // rotl 31 = rotr 1 of the halves swapped
  const rotH = ((h << 31) | (l >>> 1)) >>> 0;
  const rotL = ((l << 31) | (h >>> 1)) >>> 0;
  mul(rotH, rotL, P1H, P1L);
}

/** rotl(h:l, r) for 0 < r < 32 → rh:rl. */
function rotl(h: number, l: number, r: number): void {
  rh = ((h << r) | (l >>> (32 - r))) >>> 0;
  rl = ((l << r) | (h >>> (32 - r))) >>> 0;
}

export class Xxh64 {
  private v1h = (P1H + P2H + (P1L + P2L > 0xffffffff ? 1 : 0)) >>> 0;
  private v1l = (P1L + P2L) >>> 0;
  private v2h = P2H;
  private v2l = P2L;
  private v3h = 0;
  private v3l = 0;
  // 0 − P1 (two's complement; P1's low half is not 0, so nothing carries into the high half)
  private v4h = ~P1H >>> 0;
  private v4l = -P1L >>> 0;
  /** Bytes of a 32-byte stripe not yet consumed. */
  private readonly stripe = new Uint8Array(32);
  private readonly stripeView = new DataView(this.stripe.buffer);
  private buffered = 0;
  private length = 0;

  update(bytes: Uint8Array): void {
    this.length += bytes.length;
    let at = 0;
    if (this.buffered > 0) {
      const take = Math.min(32 - this.buffered, bytes.length);
      this.stripe.set(bytes.subarray(0, take), this.buffered);
      this.buffered += take;
      at = take;
      if (this.buffered < 32) return;
      this.stripes(this.stripeView, 0, 32);
      this.buffered = 0;
    }
    const whole = at + ((bytes.length - at) & ~31);
    if (whole > at) this.stripes(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), at, whole);
    if (whole < bytes.length) {
      this.stripe.set(bytes.subarray(whole));
      this.buffered = bytes.length - whole;
    }
  }

  /**
   * Consumes the 32-byte stripes of `view` in [from, to): the hot loop, so `round` is written out
   * here with locals (the helpers' shared result variables cost about 2×).
   */
  private stripes(view: DataView, from: number, to: number): void {
    const lanes = [this.v1h, this.v1l, this.v2h, this.v2l, this.v3h, this.v3l, this.v4h, this.v4l];
    for (let lane = 0; lane < 4; lane++) {
      let h = lanes[2 * lane]!;
      let l = lanes[2 * lane + 1]!;
      for (let i = from + 8 * lane; i < to; i += 32) {
        // t = input × P2
        const il = view.getUint32(i, true);
        const ih = view.getUint32(i + 4, true);
        let a0 = il & 0xffff, a1 = il >>> 16;
        let p00 = a0 * P2L0, p01 = a0 * P2L1, p10 = a1 * P2L0;
        let mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
        const tl = ((mid << 16) | (p00 & 0xffff)) >>> 0;
        const th = a1 * P2L1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16) + Math.imul(ih, P2L) + Math.imul(il, P2H);
        // acc += t
        const sum = l + tl;
        const sl = sum >>> 0;
        const sh = (h + th + (sum > 0xffffffff ? 1 : 0)) >>> 0;
        // rotl 31
        const rH = ((sh << 31) | (sl >>> 1)) >>> 0;
        const rL = ((sl << 31) | (sh >>> 1)) >>> 0;
        // acc = r × P1
        a0 = rL & 0xffff;
        a1 = rL >>> 16;
        p00 = a0 * P1L0;
        p01 = a0 * P1L1;
        p10 = a1 * P1L0;
        mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
        l = ((mid << 16) | (p00 & 0xffff)) >>> 0;
        h = (a1 * P1L1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16) + Math.imul(rH, P1L) + Math.imul(rL, P1H)) >>> 0;
      }
      lanes[2 * lane] = h;
      lanes[2 * lane + 1] = l;
    }
    [this.v1h, this.v1l, this.v2h, this.v2l, this.v3h, this.v3l, this.v4h, this.v4l] = lanes as [number, number, number, number, number, number, number, number];
  }

  /** The hash of everything given to `update`, as [high, low] 32-bit halves (the state is not reset). */
  digest(): [number, number] {
    let h: number, l: number;
    if (this.length >= 32) {
      const parts: [number, number][] = [
        [this.v1h, this.v1l],
        [this.v2h, this.v2l],
        [this.v3h, this.v3l],
        [this.v4h, this.v4l],
      ];
      h = 0;
      l = 0;
      [1, 7, 12, 18].forEach((r, i) => {
        rotl(parts[i]![0], parts[i]![1], r);
        const lo = l + rl;
        h = (h + rh + (lo > 0xffffffff ? 1 : 0)) >>> 0;
        l = lo >>> 0;
      });
      for (const [vh, vl] of parts) {
        // h = (h ^ round(0, v)) × P1 + P4
        round(0, 0, vh, vl);
        mul((h ^ rh) >>> 0, (l ^ rl) >>> 0, P1H, P1L);
        const lo = rl + P4L;
        h = (rh + P4H + (lo > 0xffffffff ? 1 : 0)) >>> 0;
        l = lo >>> 0;
      }
    } else {
      h = P5H;
      l = P5L;
    }
    // + total length (below 2^53: its high half is length / 2^32)
    const lengthLow = this.length >>> 0;
    const lengthHigh = Math.floor(this.length / 0x100000000) >>> 0;
    const lo = l + lengthLow;
    h = (h + lengthHigh + (lo > 0xffffffff ? 1 : 0)) >>> 0;
    l = lo >>> 0;

    const tail = this.stripe;
    const view = this.stripeView;
    let i = 0;
    for (; i + 8 <= this.buffered; i += 8) {
      round(0, 0, view.getUint32(i + 4, true), view.getUint32(i, true));
      h = (h ^ rh) >>> 0;
      l = (l ^ rl) >>> 0;
      rotl(h, l, 27);
      mul(rh, rl, P1H, P1L);
      const sum = rl + P4L;
      h = (rh + P4H + (sum > 0xffffffff ? 1 : 0)) >>> 0;
      l = sum >>> 0;
    }
    if (i + 4 <= this.buffered) {
      mul(0, view.getUint32(i, true), P1H, P1L);
      h = (h ^ rh) >>> 0;
      l = (l ^ rl) >>> 0;
      rotl(h, l, 23);
      mul(rh, rl, P2H, P2L);
      const sum = rl + P3L;
      h = (rh + P3H + (sum > 0xffffffff ? 1 : 0)) >>> 0;
      l = sum >>> 0;
      i += 4;
    }
    for (; i < this.buffered; i++) {
      mul(0, tail[i]!, P5H, P5L);
      h = (h ^ rh) >>> 0;
      l = (l ^ rl) >>> 0;
      rotl(h, l, 11);
      mul(rh, rl, P1H, P1L);
      h = rh;
      l = rl;
    }
    // avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32
    l = (l ^ (h >>> 1)) >>> 0;
    mul(h, l, P2H, P2L);
    const sl = ((rl >>> 29) | (rh << 3)) >>> 0;
    h = (rh ^ (rh >>> 29)) >>> 0;
    l = (rl ^ sl) >>> 0;
    mul(h, l, P3H, P3L);
    h = rh;
    l = (rl ^ rh) >>> 0;
    return [h, l];
  }
}
