/**
 * The subset of Electron's main/preload API this app uses. The `electron` package is an optional
 * dependency (offline installs lack it), so tsconfig's `paths` maps `electron` here on every machine:
 * typechecking never depends on whether the binary was downloaded. Signatures follow Electron 41.
 */

export interface Event {
  preventDefault(): void;
  readonly defaultPrevented?: boolean;
}

export interface WebFrameMain {
  readonly url: string;
  readonly origin: string;
  readonly parent: WebFrameMain | null;
  readonly top: WebFrameMain | null;
}

export interface HandlerDetails {
  url: string;
  frameName: string;
  disposition: string;
}

export type WindowOpenHandlerResponse = { action: 'deny' } | { action: 'allow' };

export interface NavigationEvent extends Event {
  readonly url: string;
  readonly isMainFrame?: boolean;
}

export interface WebPreferences {
  preload?: string;
  contextIsolation?: boolean;
  sandbox?: boolean;
  nodeIntegration?: boolean;
  nodeIntegrationInWorker?: boolean;
  nodeIntegrationInSubFrames?: boolean;
  webSecurity?: boolean;
  allowRunningInsecureContent?: boolean;
  webviewTag?: boolean;
  experimentalFeatures?: boolean;
  enableBlinkFeatures?: string;
  devTools?: boolean;
  spellcheck?: boolean;
  navigateOnDragDrop?: boolean;
  safeDialogs?: boolean;
  enableWebSQL?: boolean;
}

export interface WebContents {
  readonly id: number;
  readonly mainFrame: WebFrameMain;
  send(channel: string, ...args: unknown[]): void;
  isDestroyed(): boolean;
  getURL(): string;
  setWindowOpenHandler(handler: (details: HandlerDetails) => WindowOpenHandlerResponse): void;
  on(
    event: 'will-navigate' | 'will-redirect' | 'will-frame-navigate',
    listener: (event: NavigationEvent, url?: string) => void,
  ): this;
  on(
    event: 'will-attach-webview',
    listener: (event: Event, webPreferences: WebPreferences, params: Record<string, string>) => void,
  ): this;
}

export interface BrowserWindowConstructorOptions {
  width?: number;
  height?: number;
  minWidth?: number;
  minHeight?: number;
  show?: boolean;
  title?: string;
  backgroundColor?: string;
  autoHideMenuBar?: boolean;
  webPreferences?: WebPreferences;
}

export declare class BrowserWindow {
  constructor(options?: BrowserWindowConstructorOptions);
  static getAllWindows(): BrowserWindow[];
  readonly webContents: WebContents;
  loadURL(url: string): Promise<void>;
  show(): void;
  focus(): void;
  restore(): void;
  isMinimized(): boolean;
  isDestroyed(): boolean;
  once(event: 'ready-to-show', listener: () => void): this;
  on(event: 'closed', listener: () => void): this;
}

export type PathName = 'home' | 'appData' | 'userData' | 'sessionData' | 'temp' | 'logs';

export interface App {
  readonly isPackaged: boolean;
  requestSingleInstanceLock(): boolean;
  quit(): void;
  exit(exitCode?: number): void;
  whenReady(): Promise<void>;
  getPath(name: PathName): string;
  enableSandbox(): void;
  on(
    event: 'second-instance',
    listener: (event: Event, argv: string[], workingDirectory: string) => void,
  ): this;
  on(event: 'before-quit', listener: (event: Event) => void): this;
  on(event: 'window-all-closed' | 'activate', listener: () => void): this;
  on(event: 'web-contents-created', listener: (event: Event, contents: WebContents) => void): this;
}

export interface Privileges {
  standard?: boolean;
  secure?: boolean;
  bypassCSP?: boolean;
  allowServiceWorkers?: boolean;
  supportFetchAPI?: boolean;
  corsEnabled?: boolean;
  stream?: boolean;
  codeCache?: boolean;
}

export interface CustomScheme {
  scheme: string;
  privileges?: Privileges;
}

export interface Protocol {
  registerSchemesAsPrivileged(customSchemes: CustomScheme[]): void;
  handle(scheme: string, handler: (request: Request) => Response | Promise<Response>): void;
  unhandle(scheme: string): void;
}

export interface IpcMainInvokeEvent extends Event {
  readonly sender: WebContents;
  /** Null when the frame navigated or was destroyed before the message arrived. */
  readonly senderFrame: WebFrameMain | null;
  readonly processId: number;
  readonly frameId: number;
}

export interface IpcMain {
  handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

export interface OnBeforeRequestDetails {
  url: string;
  resourceType?: string;
}

export interface WebRequest {
  onBeforeRequest(
    filter: { urls: string[] },
    listener: (details: OnBeforeRequestDetails, callback: (response: { cancel?: boolean }) => void) => void,
  ): void;
}

export interface Session {
  readonly webRequest: WebRequest;
  setPermissionRequestHandler(
    handler:
      | ((
          webContents: WebContents,
          permission: string,
          callback: (granted: boolean) => void,
          details: unknown,
        ) => void)
      | null,
  ): void;
  setPermissionCheckHandler(
    handler:
      | ((
          webContents: WebContents | null,
          permission: string,
          requestingOrigin: string,
          details: unknown,
        ) => boolean)
      | null,
  ): void;
  setDevicePermissionHandler(handler: ((details: unknown) => boolean) | null): void;
}

export interface ForkOptions {
  env?: NodeJS.ProcessEnv;
  execArgv?: string[];
  cwd?: string;
  stdio?: 'pipe' | 'ignore' | 'inherit' | Array<'pipe' | 'ignore' | 'inherit'>;
  serviceName?: string;
}

export interface UtilityProcess {
  /** Undefined until the process has spawned. */
  readonly pid: number | undefined;
  readonly stdout: NodeJS.ReadableStream | null;
  readonly stderr: NodeJS.ReadableStream | null;
  postMessage(message: unknown): void;
  kill(): boolean;
  on(event: 'spawn', listener: () => void): this;
  on(event: 'exit', listener: (code: number) => void): this;
  on(event: 'message', listener: (message: unknown) => void): this;
  on(event: 'error', listener: (type: string, location: string, report: string) => void): this;
}

export interface UtilityProcessModule {
  fork(modulePath: string, args?: string[], options?: ForkOptions): UtilityProcess;
}

export interface Dialog {
  showErrorBox(title: string, content: string): void;
}

export interface IpcRendererEvent extends Event {
  readonly sender: IpcRenderer;
}

export interface IpcRenderer {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: IpcRendererEvent, ...args: unknown[]) => void): this;
  removeListener(channel: string, listener: (event: IpcRendererEvent, ...args: unknown[]) => void): this;
}

export interface ContextBridge {
  exposeInMainWorld(apiKey: string, api: unknown): void;
}

export declare const app: App;
export declare const protocol: Protocol;
export declare const ipcMain: IpcMain;
export declare const session: { readonly defaultSession: Session };
export declare const utilityProcess: UtilityProcessModule;
export declare const dialog: Dialog;
export declare const ipcRenderer: IpcRenderer;
export declare const contextBridge: ContextBridge;
