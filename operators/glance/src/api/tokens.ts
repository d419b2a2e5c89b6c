/** Who an Image API call comes from: a Keystone token's scope, as the runtime's validator reads it. */
import type { TokenAuth } from '@stratus/runtime';

export type ImageAuth = TokenAuth;
