/**
 * Draws Earshot's icons into resources/: the app icon and the tray icons (colour for Windows and
 * Linux, black "Template" images that macOS recolours for the menu bar). Plain Node, no image
 * tools: shapes are sampled 4x4 per pixel for smooth edges and written as RGBA PNGs.
 *
 *   node electron/scripts/make-icons.ts
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

type Rgba = [number, number, number, number];
/** Colour at a point of the unit square, or null where the shape is empty. */
type Shape = (x: number, y: number) => Rgba | null;

const SAMPLES = 4;

function render(size: number, shape: Shape): Buffer {
  const pixels = Buffer.alloc(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < SAMPLES; sy++) {
        for (let sx = 0; sx < SAMPLES; sx++) {
          const c = shape((px + (sx + 0.5) / SAMPLES) / size, (py + (sy + 0.5) / SAMPLES) / size);
          if (!c) continue;
          // Premultiplied, so edges blend towards the shape's colour and not towards black.
          r += c[0] * c[3];
          g += c[1] * c[3];
          b += c[2] * c[3];
          a += c[3];
        }
      }
      const i = (py * size + px) * 4;
      pixels[i] = a ? Math.round(r / a) : 0;
      pixels[i + 1] = a ? Math.round(g / a) : 0;
      pixels[i + 2] = a ? Math.round(b / a) : 0;
      pixels[i + 3] = Math.round((a / (SAMPLES * SAMPLES)) * 255);
    }
  }
  return pixels;
}

function png(size: number, rgba: Buffer): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bits per channel
  header[9] = 6; // RGBA
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) rgba.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function inRoundedSquare(x: number, y: number, inset: number, radius: number): boolean {
  const lo = inset + radius;
  const hi = 1 - inset - radius;
  const dx = x < lo ? lo - x : x > hi ? x - hi : 0;
  const dy = y < lo ? lo - y : y > hi ? y - hi : 0;
  return x >= inset && x <= 1 - inset && y >= inset && y <= 1 - inset && dx * dx + dy * dy <= radius * radius;
}

/**
 * The mark: a source dot and sound waves spreading from it, in a box of the unit square
 * (`left`, `top`, `scale`). `waves` arcs; `stroke` is their width.
 */
function inMark(
  x: number,
  y: number,
  o: { left: number; top: number; scale: number; waves: number; stroke: number },
) {
  const u = (x - o.left) / o.scale;
  const v = (y - o.top) / o.scale;
  const cx = 0.22;
  const cy = 0.5;
  const d = Math.hypot(u - cx, v - cy);
  if (d <= 0.11) return true;
  const angle = Math.abs(Math.atan2(v - cy, u - cx));
  if (u < cx || angle > (52 * Math.PI) / 180) return false;
  for (let k = 1; k <= o.waves; k++) {
    const radius = 0.11 + (k * 0.66) / o.waves - o.stroke / 2;
    if (Math.abs(d - radius) <= o.stroke / 2) return true;
  }
  return false;
}

const WHITE: Rgba = [255, 255, 255, 1];
const BLACK: Rgba = [0, 0, 0, 1];
function indigo(y: number): Rgba {
  // Top #6366f1 to bottom #3b2fa0.
  const t = Math.min(1, Math.max(0, y));
  return [
    Math.round(0x63 + (0x3b - 0x63) * t),
    Math.round(0x66 + (0x2f - 0x66) * t),
    Math.round(0xf1 + (0xa0 - 0xf1) * t),
    1,
  ];
}

/** App icon: the mark on an indigo rounded square, inset like macOS icons. */
const appIcon: Shape = (x, y) => {
  const inset = 0.098;
  if (!inRoundedSquare(x, y, inset, 0.18)) return null;
  return inMark(x, y, { left: 0.17, top: 0.2, scale: 0.6, waves: 3, stroke: 0.09 }) ? WHITE : indigo(y);
};

/** Tray icon for Windows and Linux: the same, filling the whole (small) square. */
const trayColour: Shape = (x, y) => {
  if (!inRoundedSquare(x, y, 0, 0.2)) return null;
  return inMark(x, y, { left: 0.07, top: 0.1, scale: 0.8, waves: 2, stroke: 0.13 }) ? WHITE : indigo(y);
};

/** macOS menu bar: only the mark, black on transparent; the system recolours it. */
const trayTemplate: Shape = (x, y) =>
  inMark(x, y, { left: 0.02, top: 0.02, scale: 0.96, waves: 2, stroke: 0.13 }) ? BLACK : null;

const outDir = fileURLToPath(new URL('../../resources/', import.meta.url));
const icons: [string, number, Shape][] = [
  ['icon.png', 512, appIcon],
  ['tray.png', 16, trayColour],
  ['tray@2x.png', 32, trayColour],
  ['trayTemplate.png', 16, trayTemplate],
  ['trayTemplate@2x.png', 32, trayTemplate],
];
fs.mkdirSync(outDir, { recursive: true });
for (const [name, size, shape] of icons) {
  fs.writeFileSync(path.join(outDir, name), png(size, render(size, shape)));
  console.log(`${path.join('resources', name)} ${size}x${size}`);
}
