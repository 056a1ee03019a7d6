/** See demo-types.mjs (plain JavaScript: the esbuild config imports it). */
export declare const DEMO_TYPE_PACKAGES: readonly string[];
export declare function copyDemoTypes(nodeModules: string, out: string): void;
