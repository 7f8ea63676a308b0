/**
 * @module
 * Work in progress.
 */
export {};
