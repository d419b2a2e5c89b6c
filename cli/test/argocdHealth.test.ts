/**
 * The Argo CD health check the chart ships (charts/stratus/argocd/health.lua, one argocd-cm key per kind), run
 * by a real Lua VM (fengari) on objects whose conditions the operators' own functions wrote.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import fengari from 'fengari';
import { markReady, markReconciling, markStalled } from '@stratus/runtime';

const { lua, lauxlib, lualib, to_luastring } = fengari;
const ROOT = new URL('../../../', import.meta.url).pathname;
const argocdCm = parse(readFileSync(`${ROOT}charts/stratus/argocd/argocd-cm.yaml`, 'utf8')) as { data: Record<string, string> };

/** Pushes a JSON value as a Lua value, as Argo CD hands a resource to its script (arrays 1-based). */
function push(L: unknown, v: unknown): void {
  if (v === null || v === undefined) lua.lua_pushnil(L);
  else if (typeof v === 'boolean') lua.lua_pushboolean(L, v);
  // Integers as Lua integers: Lua 5.1 (Argo CD's) prints a whole number without the '.0' Lua 5.3 adds to floats.
  else if (typeof v === 'number') (Number.isInteger(v) ? lua.lua_pushinteger(L, v) : lua.lua_pushnumber(L, v));
  else if (typeof v === 'string') lua.lua_pushstring(L, to_luastring(v));
  else if (Array.isArray(v)) {
    lua.lua_createtable(L, v.length, 0);
    v.forEach((x, i) => {
      push(L, x);
      lua.lua_rawseti(L, -2, i + 1);
    });
  } else {
    lua.lua_createtable(L, 0, 0);
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      push(L, x);
      lua.lua_setfield(L, -2, to_luastring(k));
    }
  }
}

/** Runs a health script on an object: Argo CD's `obj` global in, its `hs` table out. */
function health(script: string, obj: unknown): { status: string; message: string | null } {
  const L = lauxlib.luaL_newstate();
  lualib.luaL_openlibs(L);
  push(L, obj);
  lua.lua_setglobal(L, to_luastring('obj'));
  assert.equal(lauxlib.luaL_loadstring(L, to_luastring(script)), lua.LUA_OK, 'the script compiles');
  const ran = lua.lua_pcall(L, 0, 1, 0);
  assert.equal(ran, lua.LUA_OK, `the script runs: ${lua.lua_tojsstring(L, -1)}`);
  assert.ok(lua.lua_istable(L, -1), 'it returns a table');
  lua.lua_getfield(L, -1, to_luastring('status'));
  const status = lua.lua_tojsstring(L, -1)!;
  lua.lua_pop(L, 1);
  lua.lua_getfield(L, -1, to_luastring('message'));
  return { status, message: lua.lua_tojsstring(L, -1) };
}

const object = (generation: number, status?: Record<string, unknown>) => ({ apiVersion: 'compute.stratus.io/v1alpha1', kind: 'Instance', metadata: { name: 'web', namespace: 'demo', generation }, ...(status ? { status } : {}) });

describe('Argo CD health checks for the Stratus kinds', () => {
  const script = argocdCm.data['resource.customizations.health.compute.stratus.io_Instance'];

  it('ships one check per Stratus kind, each the chart’s health.lua', () => {
    const kinds = Object.keys(argocdCm.data);
    for (const k of ['identity.stratus.io_Tenant', 'image.stratus.io_Image', 'compute.stratus.io_Instance', 'compute.stratus.io_Flavor', 'blockstorage.stratus.io_Volume', 'network.stratus.io_Network'])
      assert.ok(kinds.includes(`resource.customizations.health.${k}`), `a check for ${k}`);
    const lua = readFileSync(`${ROOT}charts/stratus/argocd/health.lua`, 'utf8');
    for (const k of kinds) assert.equal(argocdCm.data[k], lua);
  });

  it('is Progressing until the operator has observed the generation (no status, or an older one)', () => {
    assert.deepEqual(health(script, object(1)), { status: 'Progressing', message: 'Waiting for the operator to observe generation 1' });
    assert.equal(health(script, object(1, { observedGeneration: 0 })).status, 'Progressing', 'the CRD default before the first status write');
    const stale = object(3, { observedGeneration: 2, phase: 'ACTIVE', conditions: markReady(undefined, 2, 'GuestAsAsked', 'running') });
    assert.equal(health(script, stale).status, 'Progressing', 'Ready for an older spec is not Healthy');
  });

  it('is Healthy when Ready, Progressing while Reconciling, Degraded with the reason when Stalled', () => {
    assert.deepEqual(health(script, object(2, { observedGeneration: 2, phase: 'ACTIVE', conditions: markReady(undefined, 2, 'GuestAsAsked', 'the guest runs') })), { status: 'Healthy', message: 'the guest runs' });
    assert.deepEqual(health(script, object(1, { observedGeneration: 1, phase: 'BUILD', conditions: markReconciling(undefined, 1, 'Spawning', 'defining the guest') })), { status: 'Progressing', message: 'defining the guest' });
    const noHost = markStalled(markReconciling(undefined, 1, 'Scheduling', 'choosing a host'), 1, 'NoValidHost', 'No valid host was found. CoreFilter rejected 1');
    assert.deepEqual(health(script, object(1, { observedGeneration: 1, phase: 'ERROR', conditions: noHost })), { status: 'Degraded', message: 'No valid host was found. CoreFilter rejected 1' });
  });

  it('calls a server stopped or shelved on purpose Suspended, not broken', () => {
    const stopped = object(4, { observedGeneration: 4, phase: 'SHUTOFF', conditions: markReady(undefined, 4, 'GuestAsAsked', 'stopped as asked') });
    assert.deepEqual(health(script, stopped), { status: 'Suspended', message: 'The server is SHUTOFF' });
  });
});
