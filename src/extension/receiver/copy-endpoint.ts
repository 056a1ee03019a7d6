/**
 * Copies one of the receiver's endpoints and says which environment variable takes that form
 * (the text is `shared/receiver-text.ts`'s). Used by Copy OTLP Endpoint, the Start Receiver
 * notification and the moved-ports warning.
 */
import * as vscode from 'vscode';
import { copiedEndpointText, type ReceiverEndpoints } from '../../shared/receiver-text.js';

export async function copyEndpoint(kind: 'grpc' | 'http', e: ReceiverEndpoints): Promise<void> {
  await vscode.env.clipboard.writeText(kind === 'grpc' ? e.grpc : e.http);
  void vscode.window.showInformationMessage(copiedEndpointText(kind, e));
}
