// Style sheets are bundled by esbuild, not typed.
declare module '*.css';
