/** A volume's Cinder status word and attachment records, from what holds now. Pure. */
import { isDeleting } from '@stratus/runtime';
import { idOf, type AttachmentRecord, type VolumeAttachment } from './resources.js';

export interface VolumeFacts {
  deleting: boolean;
  /** Its data exists in a backend. */
  made: boolean;
  extending: boolean;
  restoring: boolean;
  backingUp: boolean;
  uploading: boolean;
  attachments: VolumeAttachment[];
  /** Offered to another project (a transfer not yet accepted). */
  offered?: boolean;
}

export function volumePhase(f: VolumeFacts): string {
  if (f.deleting) return 'deleting';
  if (!f.made) return 'creating';
  if (f.restoring) return 'restoring-backup';
  if (f.extending) return 'extending';
  if (f.backingUp) return 'backing-up';
  if (f.uploading) return 'uploading';
  const live = f.attachments.filter((a) => a.status?.phase !== 'error');
  if (live.some((a) => isDeleting(a) || a.status?.phase === 'detaching')) return 'detaching';
  if (live.some((a) => a.status?.phase === 'attached')) return 'in-use';
  if (live.some((a) => a.status?.phase === 'attaching')) return 'attaching';
  if (live.length) return 'reserved';
  return f.offered ? 'awaiting-transfer' : 'available';
}

/** What the volume shows of each attachment (Cinder's attachments list): the ones plugged in, or on their way. */
export const attachmentRecords = (atts: VolumeAttachment[]): AttachmentRecord[] =>
  atts
    .filter((a) => a.status?.phase !== 'error' && a.status?.id)
    .map((a) => ({
      attachment: a.metadata.name,
      attachmentId: idOf(a),
      ...(a.status?.serverId ? { serverId: a.status.serverId } : {}),
      ...(a.status?.host ? { host: a.status.host } : {}),
      ...(a.status?.device ? { device: a.status.device } : {}),
      ...(a.status?.attachedAt ? { attachedAt: a.status.attachedAt } : {}),
    }));

/**
 * Whether `a` may have its volume, when the volume's type allows one attachment at a time: the one that is
 * plugged in keeps it, else the oldest asking. Pure but for the list of the volume's attachments.
 */
export function holdsVolume(a: VolumeAttachment, all: VolumeAttachment[]): boolean {
  const rivals = all.filter((o) => o.metadata.uid !== a.metadata.uid && o.status?.phase !== 'error');
  if (!rivals.length) return true;
  const plugged = (o: VolumeAttachment) => ['attaching', 'attached', 'detaching'].includes(o.status?.phase ?? '') || isDeleting(o);
  if (plugged(a)) return true;
  if (rivals.some(plugged)) return false;
  const t = (o: VolumeAttachment) => new Date(o.metadata.creationTimestamp ?? 0).getTime();
  return rivals.every((o) => t(a) < t(o) || (t(a) === t(o) && a.metadata.name < o.metadata.name));
}
