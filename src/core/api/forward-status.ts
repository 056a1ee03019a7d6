/**
 * The forwarder's line in the editor's status bar tooltip, as pure functions of its status (so it
 * is unit-tested in plain Node): where batches go, whether the upstream keeps up,
 * what is pending and what was lost.
 */
import type { ForwarderStatus } from '../receiver/forwarder.js';

const MIB = 1024 * 1024;

/** One Markdown list item for the tooltip. */
export function forwarderTooltipLine(s: ForwarderStatus): string {
  const parts: string[] = [];
  const where = s.mode === 'log' ? 'in the span log' : 'in memory';
  const pending = `${count(s.pendingRecords)} batches (${size(s.pendingBytes)}) pending ${where}`;
  if (s.state === 'down') {
    const since = s.downSince === null ? '' : ` since ${s.downSince.slice(11, 19)} UTC`;
    parts.push(`**upstream down**${since} (${plain(s.lastError)})`, pending);
  } else if (s.state === 'retrying') {
    parts.push(`retrying (${plain(s.lastError)})`, pending);
  } else if (s.state === 'sending') {
    parts.push('sending', pending);
  } else {
    parts.push('up to date');
  }
  parts.push(`${count(s.sentBatches)} sent`);
  if (s.droppedBatches > 0) {
    parts.push(`$(warning) ${count(s.droppedBatches)} dropped (${size(s.droppedBytes)})`);
  }
  if (s.rejectedBatches > 0) parts.push(`${count(s.rejectedBatches)} rejected by the upstream`);
  return `- Forwarding to \`${s.url.replace(/`/g, '')}\`: ${parts.join(' · ')}`;
}

/** Whether the status bar item should draw the eye (the upstream is down). */
export function forwarderNeedsAttention(s: ForwarderStatus | undefined): boolean {
  return s?.state === 'down';
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function size(bytes: number): string {
  return bytes >= MIB ? `${(bytes / MIB).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}

/** An error message as plain tooltip text: no Markdown or theme-icon syntax from the network. */
function plain(text: string): string {
  return text.replace(/[\\`*_[\]<>$|]/g, ' ').slice(0, 120) || 'no answer';
}
