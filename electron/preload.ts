/**
 * The preload of the sandboxed renderer (bundled to dist/electron/preload.cjs: CommonJS, self-contained,
 * only `electron` is required at run time). It exposes `window.usfm` and nothing else.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { createBridgeApi } from './bridge';
import { callNames } from './call-names';
import { BRIDGE_KEY } from './constants';

contextBridge.exposeInMainWorld(BRIDGE_KEY, createBridgeApi(ipcRenderer, callNames));
