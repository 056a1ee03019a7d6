/** What the webview shows before the first trace (and after `cleared`). */

import { icon } from './components.js';
import { el } from './dom.js';

export function createEmptyState(): HTMLElement {
  return el(
    'div',
    'empty',
    icon('pulse'),
    el('p', '', 'No trace yet.'),
    el(
      'p',
      'muted',
      'Send spans to the Stagelight receiver (OTLP on 127.0.0.1:4317/4318) or run the demo pipeline; the latest trace shows here.',
    ),
  );
}
