/** The parts of fengari (Lua 5.3 in JavaScript; it ships no types) the Argo CD health test uses. */
declare module 'fengari' {
  type LuaState = unknown;
  export const lua: {
    LUA_OK: number;
    lua_pushnil(L: LuaState): void;
    lua_pushboolean(L: LuaState, b: boolean): void;
    lua_pushnumber(L: LuaState, n: number): void;
    lua_pushinteger(L: LuaState, n: number): void;
    lua_pushstring(L: LuaState, s: Uint8Array): void;
    lua_createtable(L: LuaState, narr: number, nrec: number): void;
    lua_setfield(L: LuaState, index: number, k: Uint8Array): void;
    lua_rawseti(L: LuaState, index: number, i: number): void;
    lua_setglobal(L: LuaState, name: Uint8Array): void;
    lua_pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number;
    lua_getfield(L: LuaState, index: number, k: Uint8Array): number;
    lua_tojsstring(L: LuaState, index: number): string | null;
    lua_pop(L: LuaState, n: number): void;
    lua_istable(L: LuaState, index: number): boolean;
  };
  export const lauxlib: { luaL_newstate(): LuaState; luaL_loadstring(L: LuaState, s: Uint8Array): number };
  export const lualib: { luaL_openlibs(L: LuaState): void };
  export function to_luastring(s: string): Uint8Array;
}
