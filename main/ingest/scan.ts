/**
 * Folder scanning: which files to import and how the folder layout labels them.
 *
 * Layouts recognised (several may mix under one root):
 * - flat: images or DICOM files anywhere under the root;
 * - one folder per class: images in sibling folders (at least two) take the folder name as class label;
 * - TN3K: `<split>-image/` next to `<split>-mask/`; a mask has the image's file stem (any image extension);
 * - BUSI: `name.png` with `name_mask.png`, and further lesions in `name_mask_1.png`, ... (merged as a union).
 * DICOM files are recognised by extension (.dcm .dicom .dic .ima) or, without an extension, by the `DICM`
 * marker; PNG and JPEG by extension. Anything else (reports, spreadsheets, hidden files) is skipped.
 */
import fs from 'node:fs';
import path from 'node:path';

export type EntryKind = 'dicom' | 'image';

export interface ScanEntry {
  /** Absolute path. */
  path: string;
  /** Path shown to users: relative to the folder given, starting with that folder's name. */
  relPath: string;
  kind: EntryKind;
  classLabel: string | null;
  /** Mask images (absolute paths) of this image, merged as a union. */
  maskPaths: string[];
  /** Split named by the folder layout (TN3K `<split>-image`), if any. */
  folderSplit: string | null;
}

export interface ScanResult {
  entries: ScanEntry[];
  /** Files seen but not importable (not DICOM, PNG or JPEG). */
  skipped: number;
  /** Layouts found, for the summary: flat, class-folders, tn3k, busi-masks. */
  layouts: string[];
  /** Paths given that do not exist. */
  missing: string[];
}

const DICOM_EXT = new Set(['.dcm', '.dicom', '.dic', '.ima']);
const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.jpe']);
const BUSI_MASK = /^(.+)_mask(?:_(\d+))?$/i;
const TN3K_IMAGE_DIR = /^(.+)-images?$/i;

function sniffKind(file: string): EntryKind | null {
  let fd: number | null = null;
  try {
    fd = fs.openSync(file, 'r');
    const head = Buffer.alloc(132);
    const n = fs.readSync(fd, head, 0, 132, 0);
    if (n >= 132 && head.toString('latin1', 128, 132) === 'DICM') return 'dicom';
    if (n >= 8 && head[0] === 0x89 && head.toString('latin1', 1, 4) === 'PNG') return 'image';
    if (n >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'image';
    return null;
  } catch {
    return null;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

function kindOf(file: string): EntryKind | null {
  const ext = path.extname(file).toLowerCase();
  if (DICOM_EXT.has(ext)) return 'dicom';
  if (IMAGE_EXT.has(ext)) return 'image';
  if (ext === '') return sniffKind(file);
  return null;
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

interface DirListing {
  dir: string;
  files: string[];
  dirs: string[];
}

function listDir(dir: string): DirListing {
  const files: string[] = [];
  const dirs: string[] = [];
  for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
    if (d.name.startsWith('.') || d.name === '__MACOSX') continue;
    if (d.isDirectory()) dirs.push(d.name);
    else if (d.isFile()) files.push(d.name);
    else if (d.isSymbolicLink()) {
      // Linked files are followed; linked folders are not (they can loop).
      try {
        if (fs.statSync(path.join(dir, d.name)).isFile()) files.push(d.name);
      } catch {
        /* dangling link */
      }
    }
  }
  return { dir, files: files.sort(byName), dirs: dirs.sort(byName) };
}

const stem = (name: string): string => name.slice(0, name.length - path.extname(name).length);

export function scanPaths(inputs: readonly string[]): ScanResult {
  const entries: ScanEntry[] = [];
  const layouts = new Set<string>();
  const missing: string[] = [];
  let skipped = 0;
  const seen = new Set<string>();
  // Image-holding folders per parent folder: decides whether folder names are class labels.
  const imageDirsByParent = new Map<string, Set<string>>();
  const rootDirs: string[] = [];
  const pending: { entry: ScanEntry; dir: string; root: string }[] = [];

  const add = (entry: ScanEntry, dir: string, root: string): void => {
    if (seen.has(entry.path)) return;
    seen.add(entry.path);
    pending.push({ entry, dir, root });
    if (entry.kind === 'image') {
      const parent = path.dirname(dir);
      const set = imageDirsByParent.get(parent) ?? new Set<string>();
      set.add(dir);
      imageDirsByParent.set(parent, set);
    }
  };

  for (const input of inputs) {
    const abs = path.resolve(input);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(abs);
    } catch {
      missing.push(input);
      continue;
    }
    if (stat.isFile()) {
      const kind = kindOf(abs);
      if (!kind) {
        skipped++;
        continue;
      }
      add({ path: abs, relPath: path.basename(abs), kind, classLabel: null, maskPaths: [], folderSplit: null }, path.dirname(abs), path.dirname(abs));
      continue;
    }
    rootDirs.push(abs);
    const base = path.dirname(abs);
    const stack = [abs];
    while (stack.length > 0) {
      const dir = stack.pop()!;
      let listing: DirListing;
      try {
        listing = listDir(dir);
      } catch {
        missing.push(path.relative(base, dir) || dir);
        continue;
      }
      const dirName = path.basename(dir);
      // TN3K: this folder's masks live in the sibling <split>-mask folder; that folder is not walked.
      const tn3k = TN3K_IMAGE_DIR.exec(dirName);
      let tn3kMasks: Map<string, string> | null = null;
      if (tn3k) {
        const parent = path.dirname(dir);
        for (const candidate of [`${tn3k[1]}-mask`, `${tn3k[1]}-masks`]) {
          const maskDir = path.join(parent, candidate);
          if (fs.existsSync(maskDir) && fs.statSync(maskDir).isDirectory()) {
            tn3kMasks = new Map(listDir(maskDir).files.filter((f) => IMAGE_EXT.has(path.extname(f).toLowerCase())).map((f) => [stem(f), path.join(maskDir, f)]));
            layouts.add('tn3k');
            break;
          }
        }
      }
      const siblingTn3kImages = (name: string): boolean => {
        const m = /^(.+)-masks?$/i.exec(name);
        return !!m && (fs.existsSync(path.join(dir, `${m[1]}-image`)) || fs.existsSync(path.join(dir, `${m[1]}-images`)));
      };
      for (let i = listing.dirs.length - 1; i >= 0; i--) {
        const sub = listing.dirs[i]!;
        if (siblingTn3kImages(sub)) continue;
        stack.push(path.join(dir, sub));
      }
      // BUSI: name_mask.png / name_mask_N.png next to name.png.
      const imageStems = new Map<string, string>();
      for (const f of listing.files) if (IMAGE_EXT.has(path.extname(f).toLowerCase())) imageStems.set(stem(f), f);
      const busiMasks = new Map<string, string[]>();
      const isMask = new Set<string>();
      for (const f of listing.files) {
        if (!IMAGE_EXT.has(path.extname(f).toLowerCase())) continue;
        const m = BUSI_MASK.exec(stem(f));
        if (!m || !imageStems.has(m[1]!) || BUSI_MASK.test(m[1]!)) continue;
        const list = busiMasks.get(m[1]!) ?? [];
        list.push(path.join(dir, f));
        busiMasks.set(m[1]!, list);
        isMask.add(f);
        layouts.add('busi-masks');
      }
      for (const f of listing.files) {
        if (isMask.has(f)) continue;
        const file = path.join(dir, f);
        const kind = kindOf(file);
        if (!kind) {
          skipped++;
          continue;
        }
        const maskPaths = kind === 'image' ? [...(busiMasks.get(stem(f)) ?? [])] : [];
        if (kind === 'image' && tn3kMasks?.has(stem(f))) maskPaths.push(tn3kMasks.get(stem(f))!);
        add(
          {
            path: file,
            relPath: path.relative(base, file).split(path.sep).join('/'),
            kind,
            classLabel: null,
            maskPaths: maskPaths.sort(byName),
            folderSplit: tn3k ? tn3k[1]!.toLowerCase() : null,
          },
          dir,
          abs,
        );
      }
    }
  }

  // Class folders: an image's folder is a class when it has at least one sibling folder with images
  // (or when several folders were given, each holding images). TN3K split folders are not classes.
  const rootSet = new Set(rootDirs);
  const rootsWithImages = rootDirs.filter((r) => pending.some((p) => p.dir === r && p.entry.kind === 'image'));
  for (const { entry, dir, root } of pending) {
    if (entry.kind !== 'image' || entry.folderSplit !== null) continue;
    const siblings = imageDirsByParent.get(path.dirname(dir))?.size ?? 0;
    const isClassDir = (dir !== root && siblings >= 2) || (rootSet.has(dir) && rootsWithImages.length >= 2);
    if (isClassDir) {
      entry.classLabel = path.basename(dir);
      layouts.add('class-folders');
    }
  }
  if (pending.some((p) => p.entry.classLabel === null && p.entry.folderSplit === null)) layouts.add('flat');
  for (const p of pending) entries.push(p.entry);
  return { entries, skipped, layouts: [...layouts].sort(), missing };
}
