/**
 * Entry of the waterfall webview bundle (dist/webview/waterfall.js, with waterfall.css and the
 * codicon font beside it). Announces `ready` first, then handles every host message after
 * checking its shape.
 */

import '@vscode/codicons/dist/codicon.css';
import './styles.css';
import { isHostMessage, type WebviewMessage } from '../../src/protocol/messages.js';
import { App } from './app.js';
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
  const app = new App(container, { post: (m) => vscode.postMessage(m) });
  window.addEventListener('message', (e: MessageEvent<unknown>) => {
    if (isHostMessage(e.data)) app.handle(e.data);
  });
  vscode.postMessage({ type: 'ready' });
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
