/**
 * The contract's call names for the preload. In the preload bundle, scripts/build-main.mjs replaces this
 * module with the literal list, so the sandboxed preload carries neither zod nor the schemas.
 */
export { callNames } from '../main/api/contract';
