/** Binary-mask helpers for cone detection: box filters, connected components, hole filling. */

/** Count of set pixels in the (2r+1)^2 box around each pixel (clipped at the borders), via an integral image. */
export function boxCount(mask: Uint8Array, width: number, height: number, radius: number): Int32Array {
  const iw = width + 1;
  const integral = new Int32Array(iw * (height + 1));
  for (let y = 0; y < height; y++) {
    let rowSum = 0;
    for (let x = 0; x < width; x++) {
      rowSum += mask[y * width + x] ? 1 : 0;
      integral[(y + 1) * iw + x + 1] = integral[y * iw + x + 1]! + rowSum;
    }
  }
  const out = new Int32Array(width * height);
  for (let y = 0; y < height; y++) {
    const ya = Math.max(0, y - radius);
    const yb = Math.min(height, y + radius + 1);
    for (let x = 0; x < width; x++) {
      const xa = Math.max(0, x - radius);
      const xb = Math.min(width, x + radius + 1);
      out[y * width + x] = integral[yb * iw + xb]! - integral[ya * iw + xb]! - integral[yb * iw + xa]! + integral[ya * iw + xa]!;
    }
  }
  return out;
}

/** Fraction of set pixels in the box around each pixel (the box is clipped at the image border). */
export function boxDensity(mask: Uint8Array, width: number, height: number, radius: number): Float32Array {
  const counts = boxCount(mask, width, height, radius);
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const rows = Math.min(height, y + radius + 1) - Math.max(0, y - radius);
    for (let x = 0; x < width; x++) {
      const cols = Math.min(width, x + radius + 1) - Math.max(0, x - radius);
      out[y * width + x] = counts[y * width + x]! / (rows * cols);
    }
  }
  return out;
}

export function dilate(mask: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  const counts = boxCount(mask, width, height, radius);
  const out = new Uint8Array(mask.length);
  for (let i = 0; i < out.length; i++) out[i] = counts[i]! > 0 ? 1 : 0;
  return out;
}

export function erode(mask: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  const counts = boxCount(mask, width, height, radius);
  const out = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) {
    const rows = Math.min(height, y + radius + 1) - Math.max(0, y - radius);
    for (let x = 0; x < width; x++) {
      const cols = Math.min(width, x + radius + 1) - Math.max(0, x - radius);
      out[y * width + x] = counts[y * width + x] === rows * cols ? 1 : 0;
    }
  }
  return out;
}

/** Label 4-connected components; returns labels (0 = background) and each component's size. */
export function connectedComponents(mask: Uint8Array, width: number, height: number): { labels: Int32Array; sizes: number[] } {
  const labels = new Int32Array(width * height);
  const sizes = [0];
  const queue = new Int32Array(width * height);
  let next = 1;
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || labels[start]) continue;
    let head = 0;
    let tail = 0;
    queue[tail++] = start;
    labels[start] = next;
    let size = 0;
    while (head < tail) {
      const p = queue[head++]!;
      size++;
      const x = p % width;
      const y = (p - x) / width;
      // Neighbours left, right, up, down (inlined: this loop runs once per pixel).
      for (let k = 0; k < 4; k++) {
        if ((k === 0 && x === 0) || (k === 1 && x === width - 1) || (k === 2 && y === 0) || (k === 3 && y === height - 1)) continue;
        const q = k === 0 ? p - 1 : k === 1 ? p + 1 : k === 2 ? p - width : p + width;
        if (mask[q] && !labels[q]) {
          labels[q] = next;
          queue[tail++] = q;
        }
      }
    }
    sizes.push(size);
    next++;
  }
  return { labels, sizes };
}

/** The largest 4-connected component of the mask (empty mask when there is none). */
export function largestComponent(mask: Uint8Array, width: number, height: number): Uint8Array {
  const { labels, sizes } = connectedComponents(mask, width, height);
  let best = 0;
  for (let l = 1; l < sizes.length; l++) if (sizes[l]! > (sizes[best] ?? 0)) best = l;
  const out = new Uint8Array(mask.length);
  if (best === 0) return out;
  for (let i = 0; i < out.length; i++) out[i] = labels[i] === best ? 1 : 0;
  return out;
}

/** Set every background pixel that cannot reach the image border through background. */
export function fillHoles(mask: Uint8Array, width: number, height: number): Uint8Array {
  const outside = new Uint8Array(mask.length);
  const queue = new Int32Array(mask.length);
  let tail = 0;
  const seed = (p: number): void => {
    if (!mask[p] && !outside[p]) {
      outside[p] = 1;
      queue[tail++] = p;
    }
  };
  for (let x = 0; x < width; x++) {
    seed(x);
    seed((height - 1) * width + x);
  }
  for (let y = 0; y < height; y++) {
    seed(y * width);
    seed(y * width + width - 1);
  }
  let head = 0;
  while (head < tail) {
    const p = queue[head++]!;
    const x = p % width;
    if (x > 0) seed(p - 1);
    if (x < width - 1) seed(p + 1);
    if (p >= width) seed(p - width);
    if (p + width < mask.length) seed(p + width);
  }
  const out = new Uint8Array(mask.length);
  for (let i = 0; i < out.length; i++) out[i] = outside[i] ? 0 : 1;
  return out;
}

/** Every 4-connected component at least `fraction` of the largest one's size. */
export function sizeableComponents(mask: Uint8Array, width: number, height: number, fraction: number): Uint8Array {
  const { labels, sizes } = connectedComponents(mask, width, height);
  const largest = Math.max(0, ...sizes.slice(1));
  const keep = sizes.map((s, l) => l > 0 && s >= fraction * largest && s > 0);
  const out = new Uint8Array(mask.length);
  for (let i = 0; i < out.length; i++) out[i] = keep[labels[i]!] ? 1 : 0;
  return out;
}
