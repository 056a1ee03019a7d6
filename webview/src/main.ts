/**
 * Entry of the waterfall webview bundle (dist/webview/waterfall.js, with waterfall.css and the
 * codicon font beside it). Announces `ready` first, then hands every host message to the host
 * client after checking its shape.
 */

import '@vscode/codicons/dist/codicon.css';
import './styles.css';
import { isHostMessage, type WebviewMessage } from '../../src/protocol/messages.js';
import { App } from './app.js';
import { HostClient } from './host/host-client.js';
import { readPersisted } from './state/persisted.js';
import { registerComponents } from './ui/components.js';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

function start(): void {
  registerComponents();
  const vscode = acquireVsCodeApi();
  const container = document.getElementById('stagelight-root') ?? document.body;
  const host = new HostClient((m) => vscode.postMessage(m));
  new App(container, host, {
    saved: readPersisted(vscode.getState()),
    save: (state) => vscode.setState(state),
  });
  window.addEventListener('message', (e: MessageEvent<unknown>) => {
    if (isHostMessage(e.data)) host.receive(e.data);
  });
  host.command({ type: 'ready' });
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
