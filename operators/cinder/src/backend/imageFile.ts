/**
 * An image file about to become a volume, checked as Cinder checks it before copying: a format qemu-img knows,
 * no backing file (it could read any file on the host), and a virtual size that fits the volume.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BackendError, GiB } from './types.js';

const run = promisify(execFile);
/** qemu-img's names for the disk formats Glance records. */
const QEMU_FORMATS: Record<string, string> = { raw: 'raw', qcow2: 'qcow2', vmdk: 'vmdk', vdi: 'vdi', vhd: 'vpc', vhdx: 'vhdx', ploop: 'parallels', ami: 'raw' };

/** qemu-img's name for the format, or a BackendError saying why it cannot be written to a volume. */
export function qemuFormatOf(format: string): string {
  const from = QEMU_FORMATS[format];
  if (!from) throw new BackendError('ImageUnacceptable', `Image disk format ${format} cannot be written to a volume.`);
  return from;
}

/** Checks the file (in qemu-img's format `from`) against a volume of `sizeGiB`. */
export async function checkImageFile(file: string, from: string, sizeGiB: number): Promise<void> {
  const info = JSON.parse((await run('qemu-img', ['info', '--output=json', '-f', from, file])).stdout) as { 'virtual-size': number; 'backing-filename'?: string };
  if (info['backing-filename']) throw new BackendError('ImageUnacceptable', 'The image is a qcow2 with a backing file, which is not allowed.');
  if (info['virtual-size'] > sizeGiB * GiB) throw new BackendError('ImageTooBig', `Image virtual size is ${Math.ceil(info['virtual-size'] / GiB)}GB and doesn't fit in a volume of size ${sizeGiB}GB.`);
}
