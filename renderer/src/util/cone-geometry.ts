/**
 * Cone (field of view) geometry for the item viewer: outline points and the drag handles of the editor.
 * Same convention as main/imaging/cone.ts: pixel coordinates; sector angles in radians from straight
 * down (+y) towards +x, so a point at angle t and radius r is (apexX + r sin t, apexY + r cos t).
 */

export interface Sector {
  shape: 'sector';
  apexX: number;
  apexY: number;
  innerRadius: number;
  outerRadius: number;
  startAngle: number;
  endAngle: number;
}

export interface Rectangle {
  shape: 'rectangle';
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export type Cone = Sector | Rectangle;

export type HandleId = 'apex' | 'inner' | 'outer' | 'start' | 'end' | 'tl' | 'tr' | 'bl' | 'br' | 'body';

export interface Handle {
  id: HandleId;
  x: number;
  y: number;
}

export function polar(s: Sector, radius: number, angle: number): [number, number] {
  return [s.apexX + radius * Math.sin(angle), s.apexY + radius * Math.cos(angle)];
}

/** Closed outline of the cone in image coordinates. */
export function outline(cone: Cone, segments = 72): Array<[number, number]> {
  if (cone.shape === 'rectangle') {
    return [
      [cone.x0, cone.y0],
      [cone.x1, cone.y0],
      [cone.x1, cone.y1],
      [cone.x0, cone.y1],
    ];
  }
  const points: Array<[number, number]> = [];
  for (let i = 0; i <= segments; i++) points.push(polar(cone, cone.outerRadius, cone.startAngle + ((cone.endAngle - cone.startAngle) * i) / segments));
  for (let i = segments; i >= 0; i--) points.push(polar(cone, cone.innerRadius, cone.startAngle + ((cone.endAngle - cone.startAngle) * i) / segments));
  return points;
}

export function handles(cone: Cone): Handle[] {
  if (cone.shape === 'rectangle') {
    return [
      { id: 'tl', x: cone.x0, y: cone.y0 },
      { id: 'tr', x: cone.x1, y: cone.y0 },
      { id: 'bl', x: cone.x0, y: cone.y1 },
      { id: 'br', x: cone.x1, y: cone.y1 },
    ];
  }
  const mid = (cone.startAngle + cone.endAngle) / 2;
  const [ix, iy] = polar(cone, cone.innerRadius, mid);
  const [ox, oy] = polar(cone, cone.outerRadius, mid);
  const [sx, sy] = polar(cone, cone.outerRadius, cone.startAngle);
  const [ex, ey] = polar(cone, cone.outerRadius, cone.endAngle);
  return [
    { id: 'apex', x: cone.apexX, y: cone.apexY },
    { id: 'inner', x: ix, y: iy },
    { id: 'outer', x: ox, y: oy },
    { id: 'start', x: sx, y: sy },
    { id: 'end', x: ex, y: ey },
  ];
}

const MIN_SIZE = 2;
const MIN_SPAN = 0.02;

/** The cone after dragging `handle` to image point (x, y); `dx, dy` is the move since the last event (body drags). */
export function dragHandle(cone: Cone, handle: HandleId, x: number, y: number, dx = 0, dy = 0): Cone {
  if (cone.shape === 'rectangle') {
    const r = { ...cone };
    if (handle === 'body') return { ...r, x0: r.x0 + dx, x1: r.x1 + dx, y0: r.y0 + dy, y1: r.y1 + dy };
    if (handle === 'tl' || handle === 'bl') r.x0 = Math.min(x, r.x1 - MIN_SIZE);
    if (handle === 'tr' || handle === 'br') r.x1 = Math.max(x, r.x0 + MIN_SIZE);
    if (handle === 'tl' || handle === 'tr') r.y0 = Math.min(y, r.y1 - MIN_SIZE);
    if (handle === 'bl' || handle === 'br') r.y1 = Math.max(y, r.y0 + MIN_SIZE);
    return r;
  }
  const s = { ...cone };
  const distance = Math.hypot(x - s.apexX, y - s.apexY);
  const angle = Math.atan2(x - s.apexX, y - s.apexY);
  switch (handle) {
    case 'apex':
    case 'body':
      if (handle === 'body') return { ...s, apexX: s.apexX + dx, apexY: s.apexY + dy };
      return { ...s, apexX: x, apexY: y };
    case 'inner':
      s.innerRadius = Math.max(0, Math.min(distance, s.outerRadius - MIN_SIZE));
      return s;
    case 'outer':
      s.outerRadius = Math.max(distance, s.innerRadius + MIN_SIZE);
      return s;
    case 'start':
      s.startAngle = Math.max(-Math.PI, Math.min(angle, s.endAngle - MIN_SPAN));
      return s;
    case 'end':
      s.endAngle = Math.min(Math.PI, Math.max(angle, s.startAngle + MIN_SPAN));
      return s;
    default:
      return s;
  }
}

/** Whether image point (x, y) lies inside the cone (for grabbing its body). */
export function contains(cone: Cone, x: number, y: number): boolean {
  if (cone.shape === 'rectangle') return x >= cone.x0 && x <= cone.x1 && y >= cone.y0 && y <= cone.y1;
  const d = Math.hypot(x - cone.apexX, y - cone.apexY);
  const a = Math.atan2(x - cone.apexX, y - cone.apexY);
  return d >= cone.innerRadius && d <= cone.outerRadius && a >= cone.startAngle && a <= cone.endAngle;
}

/** A default cone for an image without one: a centred sector, or the full frame as a rectangle. */
export function defaultCone(shape: Cone['shape'], width: number, height: number): Cone {
  if (shape === 'rectangle') return { shape, x0: 0, y0: 0, x1: width - 1, y1: height - 1 };
  return { shape, apexX: width / 2, apexY: 0, innerRadius: height * 0.05, outerRadius: height * 0.95, startAngle: -0.6, endAngle: 0.6 };
}

/** Round to 0.1 px / 0.001 rad so saved geometry stays readable. */
export function roundCone(cone: Cone): Cone {
  const r1 = (v: number): number => Math.round(v * 10) / 10;
  const r3 = (v: number): number => Math.round(v * 1000) / 1000;
  if (cone.shape === 'rectangle') return { shape: 'rectangle', x0: r1(cone.x0), y0: r1(cone.y0), x1: r1(cone.x1), y1: r1(cone.y1) };
  return {
    shape: 'sector',
    apexX: r1(cone.apexX),
    apexY: r1(cone.apexY),
    innerRadius: r1(cone.innerRadius),
    outerRadius: r1(cone.outerRadius),
    startAngle: r3(cone.startAngle),
    endAngle: r3(cone.endAngle),
  };
}
