/** The Identity API's routes: the runtime's router, with what a valid Keystone token says as the auth. */
import { Router as GenericRouter, type ApiRequest as GenericRequest, type Handler as GenericHandler } from '@stratus/runtime';
import type { AuthContext } from './auth.js';

export type { ApiResponse } from '@stratus/runtime';
export type ApiRequest = GenericRequest<AuthContext>;
export type Handler = GenericHandler<AuthContext>;
export class Router extends GenericRouter<AuthContext> {}
