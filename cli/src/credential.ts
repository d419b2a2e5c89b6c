#!/usr/bin/env node
/**
 * kubectl's credential plugin for a Stratus cloud (a kubeconfig's `user.exec`, as `stratus login` writes it):
 * prints a client.authentication.k8s.io/v1 ExecCredential holding a Keystone token for the clouds.yaml entry
 * `--cloud`, signed in afresh only when the cached one is about to expire.
 */
import { parseArgs } from 'node:util';
import { cloudAuth, execCredential, projectToken } from './keystoneLogin.js';

const { values } = parseArgs({ options: { cloud: { type: 'string', default: process.env.OS_CLOUD } } });
try {
  if (!values.cloud) throw new Error('--cloud (or OS_CLOUD) names the clouds.yaml entry to sign in with');
  process.stdout.write(`${JSON.stringify(execCredential(await projectToken(cloudAuth(values.cloud))))}\n`);
} catch (e) {
  process.stderr.write(`stratus credential: ${(e as Error).message}\n`);
  process.exit(1);
}
